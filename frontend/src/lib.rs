//! The browser entry point: hydrates the server-rendered page, waiting for the chunks of
//! its lazy routes (`#[lazy_route]`), then marks the page hydrated.

use leptos::prelude::document;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // What `leptos::mount::hydrate_lazy` does, plus the mark once all of the page, the
    // route's chunk included, has hydrated: an effect in the layout would run while the
    // chunk is still loading, and a click then would find a page that does nothing yet.
    _ = any_spawner::Executor::init_wasm_bindgen();
    leptos::task::spawn_local(async {
        let Some(body) = document().body() else {
            return;
        };
        let owner = leptos::mount::hydrate_from_async(body, app::App).await;
        owner.forget();
        if let Ok(Some(app)) = document().query_selector(".app") {
            let _ = app.set_attribute("data-hydrated", "true");
        }
    });
}
