use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    // Tell the server to answer 404, not 200, for unknown paths.
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="页面不存在" />
        <section class="card empty-state">
            <h1>"404 · 页面不存在"</h1>
            <p>"您访问的页面不存在或已被移动。"</p>
            <a class="button" href="/">"返回首页"</a>
        </section>
    }
}
