//! A scripted browser for page flows without a real one: keeps cookies, follows redirects
//! while recording every hop, and reads form fields from pages. (Real Chromium is used where
//! scripts and rendering matter.)

use std::sync::Arc;
use std::time::Duration;

/// A page as the browser ended on it.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub url: String,
    pub body: String,
    /// Every URL visited on the way, the first request included.
    pub hops: Vec<String>,
}

impl Page {
    /// The value of the hidden `name` field in the page's (first) form that has one.
    pub fn field(&self, name: &str) -> Option<String> {
        let needle = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&needle)? + needle.len();
        let end = self.body[start..].find('"')? + start;
        Some(unescape(&self.body[start..end]))
    }
}

/// Decode the character references an HTML attribute may hold, as a browser does.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

pub struct Browser {
    client: reqwest::Client,
    pub cookies: Arc<reqwest::cookie::Jar>,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    pub fn new() -> Browser {
        Self::with(reqwest::Client::builder())
    }

    /// A browser that also trusts the CA certificate(s) in `ca_pem`, for https sites a test
    /// CA signed.
    pub fn trusting(ca_pem: &[u8]) -> Browser {
        let mut builder = reqwest::Client::builder();
        for cert in reqwest::Certificate::from_pem_bundle(ca_pem).expect("PEM certificates") {
            builder = builder.add_root_certificate(cert);
        }
        Self::with(builder)
    }

    fn with(builder: reqwest::ClientBuilder) -> Browser {
        let cookies = Arc::new(reqwest::cookie::Jar::default());
        let client = builder
            .cookie_provider(cookies.clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client builds");
        Browser { client, cookies }
    }

    pub async fn get(&self, url: &str) -> Page {
        self.follow(self.client.get(url), url).await
    }

    /// One request as a page's script sends it (cookies, no redirects followed), with an
    /// optional JSON body: status, headers and body text.
    pub async fn fetch(
        &self,
        method: reqwest::Method,
        url: &str,
        json: Option<serde_json::Value>,
    ) -> (u16, reqwest::header::HeaderMap, String) {
        let mut req = self.client.request(method, url);
        if let Some(body) = json {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("the server answers");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        (status, headers, resp.text().await.unwrap_or_default())
    }

    /// Submit a form (`application/x-www-form-urlencoded`) and follow where it leads.
    pub async fn post_form(&self, url: &str, fields: &[(&str, &str)]) -> Page {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let req = self
            .client
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.follow(req, url).await
    }

    async fn follow(&self, first: reqwest::RequestBuilder, url: &str) -> Page {
        let mut hops = vec![url.to_owned()];
        let mut current = url::Url::parse(url).expect("absolute URL");
        let mut resp = first.send().await.expect("the server answers");
        for _ in 0..20 {
            if !resp.status().is_redirection() {
                break;
            }
            let location = resp
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .expect("a redirect has a Location")
                .to_owned();
            current = current.join(&location).expect("a valid Location");
            hops.push(current.to_string());
            resp = self
                .client
                .get(current.as_str())
                .send()
                .await
                .expect("the server answers");
        }
        let status = resp.status().as_u16();
        let body = resp.text().await.unwrap_or_default();
        Page {
            status,
            url: current.to_string(),
            body,
            hops,
        }
    }
}
