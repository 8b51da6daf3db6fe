//! Components and pages. Text is zh-CN first.

pub mod components;
pub mod pages;

use leptos::prelude::*;
use leptos_meta::{Link, Meta, MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    StaticSegment,
    components::{Route, Router, Routes},
};

use components::layout::Layout;
use pages::{home::HomePage, not_found::NotFoundPage};

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
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
                <Routes fallback=NotFoundPage>
                    <Route path=StaticSegment("") view=HomePage />
                </Routes>
            </Layout>
        </Router>
    }
}
