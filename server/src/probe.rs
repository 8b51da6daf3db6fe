//! A minimal HTTP/1.0 client over a plain TCP socket, for the `healthcheck` subcommand
//! only (container images ship no curl). Tests use reqwest.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Debug, Clone)]
pub struct ProbeResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl ProbeResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("unsupported URL {0:?}: expected http://host:port/path")]
    Url(String),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("answer incomplete after {timeout:?} ({bytes} bytes so far, ending with {received:?})")]
    Incomplete {
        timeout: Duration,
        bytes: usize,
        received: String,
    },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("malformed HTTP response")]
    Malformed,
}

/// Sends one request and reads the whole answer. HTTP/1.0 makes the server close the
/// connection after the body and never use chunked encoding, so reading to EOF suffices.
pub async fn request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: impl AsRef<[u8]>,
    timeout: Duration,
) -> Result<ProbeResponse, ProbeError> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| ProbeError::Url(url.to_owned()))?;
    let (authority, path) = match rest.find('/') {
        Some(index) => (&rest[..index], &rest[index..]),
        None => (rest, "/"),
    };
    if authority.is_empty() {
        return Err(ProbeError::Url(url.to_owned()));
    }
    let body = body.as_ref();
    let mut raw = Vec::new();
    let exchange = async {
        let mut stream = TcpStream::connect(authority).await?;
        let mut head = format!(
            "{method} {path} HTTP/1.0\r\nHost: {authority}\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body).await?;
        stream.read_to_end(&mut raw).await?;
        Ok::<_, ProbeError>(())
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(result) => result?,
        Err(_) if raw.is_empty() => return Err(ProbeError::Timeout(timeout)),
        Err(_) => {
            return Err(ProbeError::Incomplete {
                timeout,
                received: String::from_utf8_lossy(&raw[raw.len().saturating_sub(600)..])
                    .into_owned(),
                bytes: raw.len(),
            });
        }
    }
    parse_response(&raw)
}

pub async fn get(url: &str, timeout: Duration) -> Result<ProbeResponse, ProbeError> {
    request("GET", url, &[], "", timeout).await
}

fn parse_response(raw: &[u8]) -> Result<ProbeResponse, ProbeError> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or(ProbeError::Malformed)?;
    let head = std::str::from_utf8(&raw[..split]).map_err(|_| ProbeError::Malformed)?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or(ProbeError::Malformed)?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Ok(ProbeResponse {
        status,
        headers,
        body: String::from_utf8_lossy(&raw[split + 4..]).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_headers_and_body() {
        let raw =
            b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\r\n{\"a\":1}";
        let response = parse_response(raw).expect("parse");
        assert_eq!(response.status, 503);
        assert_eq!(response.header("Content-Type"), Some("application/json"));
        assert_eq!(response.body, "{\"a\":1}");
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_response(b"hello").is_err());
        assert!(parse_response(b"HTTP/1.1 abc\r\n\r\n").is_err());
    }
}
