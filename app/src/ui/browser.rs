//! Browser-only helpers around files chosen in an `<input type="file">`. On the server
//! they exist only so pages compile; they are never called there.

use crate::AppError;

/// The file chosen in the input with this id: its name and its bytes. A file over
/// `max_bytes` is refused before it is read or sent (the server would refuse it too, and
/// may cut the connection while a large body is still being sent).
#[cfg(feature = "hydrate")]
pub async fn read_chosen_file(
    input_id: &str,
    max_bytes: usize,
) -> Result<(String, Vec<u8>), AppError> {
    use wasm_bindgen::JsCast;
    let file = leptos::prelude::document()
        .get_element_by_id(input_id)
        .and_then(|element| element.dyn_into::<web_sys::HtmlInputElement>().ok())
        .and_then(|input| input.files())
        .and_then(|files| files.get(0))
        .ok_or_else(|| AppError::invalid("file", "请先选择文件"))?;
    if file.size() > max_bytes as f64 {
        return Err(AppError::invalid(
            "file",
            format!("不能超过 {} MiB", max_bytes / 1024 / 1024),
        ));
    }
    let buffer = wasm_bindgen_futures::JsFuture::from(file.array_buffer())
        .await
        .map_err(|_| AppError::invalid("file", "无法读取该文件"))?;
    Ok((file.name(), js_sys::Uint8Array::new(&buffer).to_vec()))
}

#[cfg(not(feature = "hydrate"))]
pub async fn read_chosen_file(
    _input_id: &str,
    _max_bytes: usize,
) -> Result<(String, Vec<u8>), AppError> {
    Err(AppError::Internal)
}

/// POSTs `body` to a same-origin REST endpoint with the session cookie and decodes the
/// JSON answer, or the API's error body.
#[cfg(feature = "hydrate")]
pub async fn post_bytes<T: serde::de::DeserializeOwned>(
    url: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Result<T, AppError> {
    use wasm_bindgen::JsCast;
    let transport = |what: &str| AppError::Transport(what.to_owned());
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    let bytes = js_sys::Uint8Array::from(body.as_slice());
    init.set_body(&bytes);
    let headers = web_sys::Headers::new().map_err(|_| transport("headers"))?;
    headers
        .set("Content-Type", content_type)
        .map_err(|_| transport("headers"))?;
    init.set_headers(&headers);
    let request =
        web_sys::Request::new_with_str_and_init(url, &init).map_err(|_| transport("request"))?;
    let response: web_sys::Response = wasm_bindgen_futures::JsFuture::from(
        leptos::prelude::window().fetch_with_request(&request),
    )
    .await
    .map_err(|_| transport("网络错误"))?
    .dyn_into()
    .map_err(|_| transport("response"))?;
    let text =
        wasm_bindgen_futures::JsFuture::from(response.text().map_err(|_| transport("response"))?)
            .await
            .ok()
            .and_then(|text| text.as_string())
            .unwrap_or_default();
    if response.ok() {
        return serde_json::from_str(&text).map_err(|error| transport(&error.to_string()));
    }
    #[derive(serde::Deserialize)]
    struct Body {
        error: Detail,
    }
    #[derive(serde::Deserialize)]
    struct Detail {
        message: String,
        field: Option<String>,
    }
    match serde_json::from_str::<Body>(&text) {
        Ok(body) => Err(AppError::invalid(
            body.error.field.unwrap_or_else(|| "file".to_owned()),
            body.error.message,
        )),
        Err(_) => Err(transport(&format!("HTTP {}", response.status()))),
    }
}

#[cfg(not(feature = "hydrate"))]
pub async fn post_bytes<T: serde::de::DeserializeOwned>(
    _url: &str,
    _content_type: &str,
    _body: Vec<u8>,
) -> Result<T, AppError> {
    Err(AppError::Internal)
}
