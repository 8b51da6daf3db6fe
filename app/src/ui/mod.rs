//! Components and pages. Text is zh-CN first.

pub mod browser;
pub mod components;
pub mod pages;
pub mod session;

use leptos::prelude::*;
use leptos_meta::{Link, Meta, MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    Lazy, LazyRoute, SsrMode, StaticSegment,
    components::{Route, Router, Routes},
    lazy_route,
};

use components::layout::Layout;
use pages::account::{ChangePasswordPage, ProfilePage};
use pages::admin_users::AdminUsersPage;
use pages::audit::AuditPage;
use pages::batch::BatchPage;
use pages::channels::ChannelsPage;
use pages::deliveries::DeliveriesPage;
use pages::holidays::HolidaysPage;
use pages::login::LoginPage;
use pages::reminders::RemindersPage;
use pages::requests::RequestsPage;
use pages::schedule::{SchedulePage, TeamSchedulePage};
use pages::settings::SettingsPage;
use pages::shifts::ShiftsPage;
use pages::transfer::TransferPage;
use pages::{home::HomePage, not_found::NotFoundPage};

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_content_security_policy(&options);
    view! {
        <!DOCTYPE html>
        <html lang="zh-CN">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// A Content-Security-Policy for this page: scripts only from us and the inline hydration
/// script carrying this response's nonce; `wasm-unsafe-eval` lets the browser compile our
/// WebAssembly (it does not allow `eval`). Inline `style` attributes are allowed for
/// colours computed at run time (calendar chips).
#[cfg(feature = "ssr")]
fn set_content_security_policy(options: &LeptosOptions) {
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    // `cargo leptos watch` reloads the page over a WebSocket on another port.
    let live_reload = if options.env == leptos::config::Env::DEV {
        " ws: wss:"
    } else {
        ""
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; \
         connect-src 'self'{live_reload}; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(value) = axum::http::HeaderValue::from_str(&policy) {
        response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, value);
    }
}

/// How many rows a long list renders: `server_rows` on the server and in the browser's
/// first render (so hydration matches), all of them once the page has hydrated (effects run
/// only in the browser, after hydration). Keeps big-team pages' HTML small.
pub fn rows_until_hydrated(server_rows: usize) -> Signal<usize> {
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    Signal::derive(move || {
        if hydrated.get() {
            usize::MAX
        } else {
            server_rows
        }
    })
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/dingding-attendance.css" />
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg" />
        <Meta name="description" content="钉钉打卡提醒：排班、节假日与上下班打卡提醒" />
        <Meta name="theme-color" content="#1677ff" />
        <Title formatter=|page: String| {
            if page.is_empty() { "钉钉打卡提醒".to_owned() } else { format!("{page} · 钉钉打卡提醒") }
        } />
        <Router>
            <Layout>
                // Async: a page's data comes from the local database in milliseconds, so the
                // server sends the finished page in one piece. Streamed fallbacks swapped in
                // by script made the largest paint wait for those scripts on phones.
                <Routes fallback=NotFoundPage>
                    <Route path=StaticSegment("") view={Lazy::<Home>::new()} ssr=SsrMode::Async />
                    <Route path=StaticSegment("login") view=LoginPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("account"), StaticSegment("password")) view=ChangePasswordPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("account"), StaticSegment("profile")) view={Lazy::<Profile>::new()} ssr=SsrMode::Async />
                    <Route path=(StaticSegment("admin"), StaticSegment("users")) view={Lazy::<AdminUsers>::new()} ssr=SsrMode::Async />
                    <Route path=(StaticSegment("admin"), StaticSegment("audit")) view={Lazy::<Audit>::new()} ssr=SsrMode::Async />
                    <Route path=StaticSegment("schedule") view={Lazy::<Schedule>::new()} ssr=SsrMode::Async />
                    <Route path=(StaticSegment("schedule"), StaticSegment("team")) view={Lazy::<TeamSchedule>::new()} ssr=SsrMode::Async />
                    <Route path=(StaticSegment("schedule"), StaticSegment("batch")) view={Lazy::<Batch>::new()} ssr=SsrMode::Async />
                    <Route path=(StaticSegment("schedule"), StaticSegment("import")) view={Lazy::<Transfer>::new()} ssr=SsrMode::Async />
                    <Route path=StaticSegment("shifts") view={Lazy::<Shifts>::new()} ssr=SsrMode::Async />
                    <Route path=StaticSegment("holidays") view={Lazy::<Holidays>::new()} ssr=SsrMode::Async />
                    <Route path=StaticSegment("reminders") view={Lazy::<Reminders>::new()} ssr=SsrMode::Async />
                    <Route path=StaticSegment("requests") view={Lazy::<Requests>::new()} ssr=SsrMode::Async />
                    <Route path=StaticSegment("deliveries") view={Lazy::<Deliveries>::new()} ssr=SsrMode::Async />
                    <Route path=StaticSegment("channels") view={Lazy::<Channels>::new()} ssr=SsrMode::Async />
                    <Route path=StaticSegment("settings") view={Lazy::<Settings>::new()} ssr=SsrMode::Async />
                </Routes>
            </Layout>
        </Router>
    }
}

/// Declares a route whose page is a chunk of its own in the browser bundle: the first visit
/// downloads the app's shell (layout, sign-in, navigation) and that page's chunk, which the
/// server preloads; the others load when navigated to, once. Data stays with the page: each
/// page's resources are server-rendered and reach the browser in the HTML.
macro_rules! lazy_pages {
    ($($route:ident => $page:ident),* $(,)?) => {
        $(
            struct $route;

            #[lazy_route]
            impl LazyRoute for $route {
                fn data() -> Self {
                    Self
                }

                fn view(_route: Self) -> AnyView {
                    $page().into_any()
                }
            }
        )*
    };
}

lazy_pages! {
    Home => HomePage,
    Profile => ProfilePage,
    AdminUsers => AdminUsersPage,
    Audit => AuditPage,
    Schedule => SchedulePage,
    TeamSchedule => TeamSchedulePage,
    Batch => BatchPage,
    Transfer => TransferPage,
    Shifts => ShiftsPage,
    Holidays => HolidaysPage,
    Reminders => RemindersPage,
    Requests => RequestsPage,
    Deliveries => DeliveriesPage,
    Channels => ChannelsPage,
    Settings => SettingsPage,
}
