use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// A navigation entry; entries appear as the features behind them land.
struct NavItem {
    href: &'static str,
    label: &'static str,
}

const NAV_ITEMS: &[NavItem] = &[NavItem {
    href: "/",
    label: "首页",
}];

/// Header with navigation, the page, and a footer. On narrow screens the navigation
/// collapses behind a menu button, which works once the page has hydrated.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let (menu_open, set_menu_open) = signal(false);
    let (hydrated, set_hydrated) = signal(false);
    // Effects run only in the browser: this marks the moment the WASM took over.
    Effect::new(move |_| set_hydrated.set(true));

    let location = use_location();
    // Close the menu after navigating.
    Effect::new(move |_| {
        location.pathname.track();
        set_menu_open.set(false);
    });

    view! {
        <div class="app" data-hydrated=move || hydrated.get().to_string()>
            <header class="topbar">
                <a class="brand" href="/">
                    <img src="/favicon.svg" alt="" width="28" height="28" />
                    <span>"钉钉打卡提醒"</span>
                </a>
                <button
                    class="menu-toggle"
                    type="button"
                    aria-label="菜单"
                    aria-controls="main-nav"
                    aria-expanded=move || menu_open.get().to_string()
                    on:click=move |_| set_menu_open.update(|open| *open = !*open)
                >
                    <span class="menu-icon" aria-hidden="true"></span>
                </button>
                <nav id="main-nav" class="nav" class:open=move || menu_open.get()>
                    {NAV_ITEMS
                        .iter()
                        .map(|item| {
                            let href = item.href;
                            let current = move || {
                                (location.pathname.get() == href).then_some("page")
                            };
                            view! {
                                <a href=href aria-current=current>
                                    {item.label}
                                </a>
                            }
                        })
                        .collect_view()}
                </nav>
            </header>
            <main class="content">{children()}</main>
            <footer class="footer">
                <span>"钉钉打卡提醒系统 v" {crate::VERSION}</span>
            </footer>
        </div>
    }
}
