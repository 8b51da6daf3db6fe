use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};

use crate::api::Logout;
use crate::ui::session::SessionContext;

/// A navigation entry; entries appear as the features behind them land.
struct NavItem {
    href: &'static str,
    label: &'static str,
    admin_only: bool,
}

const NAV_ITEMS: &[NavItem] = &[
    NavItem {
        href: "/",
        label: "首页",
        admin_only: false,
    },
    NavItem {
        href: "/schedule",
        label: "我的排班",
        admin_only: false,
    },
    NavItem {
        href: "/schedule/team",
        label: "团队排班",
        admin_only: true,
    },
    NavItem {
        href: "/requests",
        label: "申请",
        admin_only: false,
    },
    NavItem {
        href: "/shifts",
        label: "班次",
        admin_only: false,
    },
    NavItem {
        href: "/holidays",
        label: "节假日",
        admin_only: false,
    },
    NavItem {
        href: "/reminders",
        label: "提醒预览",
        admin_only: false,
    },
    NavItem {
        href: "/deliveries",
        label: "发送记录",
        admin_only: false,
    },
    NavItem {
        href: "/channels",
        label: "通知渠道",
        admin_only: false,
    },
    NavItem {
        href: "/account/profile",
        label: "个人资料",
        admin_only: false,
    },
    NavItem {
        href: "/admin/users",
        label: "用户管理",
        admin_only: true,
    },
    NavItem {
        href: "/admin/audit",
        label: "操作日志",
        admin_only: true,
    },
    NavItem {
        href: "/settings",
        label: "系统设置",
        admin_only: true,
    },
];

pub const CHANGE_PASSWORD_PATH: &str = "/account/password";

/// Header with navigation, the page, and a footer. On narrow screens the navigation
/// collapses behind a menu button, which works once the page has hydrated.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let session = SessionContext::provide();
    let (menu_open, set_menu_open) = signal(false);

    let location = use_location();
    // Close the menu after navigating.
    Effect::new(move |_| {
        location.pathname.track();
        set_menu_open.set(false);
    });
    // The server redirects full page loads; this covers navigation inside the app.
    let navigate = use_navigate();
    Effect::new(move |_| {
        let must_change = session
            .loaded()
            .is_some_and(|info| info.user.must_change_password);
        if must_change && location.pathname.get() != CHANGE_PASSWORD_PATH {
            navigate(CHANGE_PASSWORD_PATH, Default::default());
        }
    });

    let logout = ServerAction::<Logout>::new();
    Effect::new(move |_| {
        if logout.value().get().is_some() {
            // A full load: every page's data belonged to the session that just ended.
            let _ = window().location().set_href("/login");
        }
    });

    view! {
        // `true` once the browser has hydrated all of the page (set by `frontend::hydrate`).
        <div class="app" data-hydrated="false">
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
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            let info = session.info.await.ok().flatten()?;
                            let admin = info.user.role == crate::domain::Role::Admin;
                            // Until the initial password is changed, nothing else opens.
                            let locked = info.user.must_change_password;
                            let links = NAV_ITEMS
                                .iter()
                                .filter(|item| !locked && (admin || !item.admin_only))
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
                                .collect_view();
                            Some(
                                view! {
                                    {links}
                                    <span class="nav-user" data-testid="current-user">
                                        {info.user.display_name.clone()}
                                    </span>
                                    <a href=CHANGE_PASSWORD_PATH>"修改密码"</a>
                                    <ActionForm action=logout attr:class="inline-form">
                                        <button type="submit" class="link-button">
                                            "退出"
                                        </button>
                                    </ActionForm>
                                },
                            )
                        })}
                    </Transition>
                </nav>
            </header>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    session
                        .info
                        .await
                        .ok()
                        .flatten()
                        .filter(|info| info.default_password_in_use)
                        .map(|_| {
                            view! {
                                <div class="banner warning" role="alert" data-testid="default-password-banner">
                                    "安全提醒：仍有管理员在使用初始密码 admin123，请立即修改。"
                                    <a href=CHANGE_PASSWORD_PATH>"修改密码"</a>
                                </div>
                            }
                        })
                })}
            </Transition>
            <main class="content">{children()}</main>
            <footer class="footer">
                <span>"钉钉打卡提醒系统 v" {crate::VERSION}</span>
            </footer>
        </div>
    }
}
