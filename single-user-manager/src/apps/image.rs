//! What an application image says about itself in its labels (simphony-remote's keys, kept so
//! its images work unchanged, and ferrohub's own for the ports; see
//! [`ferrohub_shared::labels::app`]).

use ferrohub_shared::labels::app as label;
use serde::Serialize;
use std::collections::HashMap;

/// An app image as users see it, read from its labels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppImage {
    /// The image as registered at the hub (a name with its tag, or an image ID).
    pub name: String,
    /// The name shown to users; the image name when the label is absent.
    pub ui_name: String,
    /// A base64 PNG, or empty.
    pub icon_128: String,
    pub description: String,
    /// `webapp`, `vncapp`, or empty (simphony-remote's legacy images).
    #[serde(rename = "type")]
    pub kind: String,
    /// What the user may configure at start: `resolution`, `startupdata`.
    pub configurables: Vec<String>,
    /// Environment variables the image accepts (from its `.env.*` labels).
    #[serde(skip)]
    pub env: Vec<String>,
    /// The port the app serves HTTP on inside the container.
    #[serde(skip)]
    pub http_port: u16,
    /// For a desktop that runs only a VNC server: its port, bridged by the proxy.
    #[serde(skip)]
    pub vnc_port: Option<u16>,
}

impl AppImage {
    /// Read `labels` of the image registered as `name`; a port label that is not a port is
    /// an error naming it.
    pub fn from_labels(name: &str, labels: &HashMap<String, String>) -> Result<AppImage, String> {
        let text = |key: &str| labels.get(key).cloned().unwrap_or_default();
        let port = |key: &str| -> Result<Option<u16>, String> {
            labels
                .get(key)
                .map(|v| {
                    v.trim()
                        .parse::<u16>()
                        .ok()
                        .filter(|p| *p > 0)
                        .ok_or_else(|| format!("image {name}: label {key}={v:?} is not a port"))
                })
                .transpose()
        };
        // `env.x11-width` -> `X11_WIDTH`; keys with other characters are ignored, as
        // simphony-remote ignores them.
        let mut env: Vec<String> = labels
            .keys()
            .filter_map(|k| k.strip_prefix(label::ENV_PREFIX))
            .filter(|k| {
                !k.is_empty()
                    && k.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            })
            .map(|k| k.replace('-', "_").to_ascii_uppercase())
            .collect();
        env.sort();
        let has = |v: &str| env.iter().any(|e| e == v);
        let mut configurables = Vec::new();
        if has("X11_WIDTH") && has("X11_HEIGHT") && has("X11_DEPTH") {
            configurables.push("resolution".to_owned());
        }
        if has("STARTUPDATA") {
            configurables.push("startupdata".to_owned());
        }
        let ui_name = text(label::UI_NAME);
        Ok(AppImage {
            name: name.to_owned(),
            ui_name: if ui_name.trim().is_empty() {
                name.to_owned()
            } else {
                ui_name
            },
            icon_128: text(label::ICON_128),
            description: text(label::DESCRIPTION),
            kind: text(label::TYPE),
            configurables,
            env,
            http_port: port(label::HTTP_PORT)?.unwrap_or(label::DEFAULT_HTTP_PORT),
            vnc_port: port(label::VNC_PORT)?,
        })
    }

    /// Whether the image accepts the environment variable `var`.
    pub fn accepts(&self, var: &str) -> bool {
        self.env.iter().any(|e| e == var)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn simphony_remote_labels_are_read_as_it_reads_them() {
        let image = AppImage::from_labels(
            "desk:1",
            &labels(&[
                (label::UI_NAME, "Desktop"),
                (label::TYPE, "vncapp"),
                ("eu.simphony-project.docker.env.x11-width", ""),
                ("eu.simphony-project.docker.env.x11-height", ""),
                ("eu.simphony-project.docker.env.x11-depth", ""),
                ("eu.simphony-project.docker.env.startupdata", ""),
                ("eu.simphony-project.docker.env.Bad_Key", ""),
                (label::VNC_PORT, "5900"),
            ]),
        )
        .unwrap();
        assert_eq!(image.ui_name, "Desktop");
        assert_eq!(image.kind, "vncapp");
        assert_eq!(image.configurables, ["resolution", "startupdata"]);
        assert_eq!(
            image.env,
            ["STARTUPDATA", "X11_DEPTH", "X11_HEIGHT", "X11_WIDTH"]
        );
        assert_eq!((image.http_port, image.vnc_port), (8888, Some(5900)));
    }

    #[test]
    fn bare_images_get_defaults_and_bad_ports_are_named() {
        let image = AppImage::from_labels("plain:1", &HashMap::new()).unwrap();
        assert_eq!(image.ui_name, "plain:1");
        assert!(image.configurables.is_empty());
        assert_eq!(image.http_port, 8888);
        let err = AppImage::from_labels("x", &labels(&[(label::HTTP_PORT, "http")])).unwrap_err();
        assert!(err.contains("org.ferrohub.http-port"), "{err}");
    }
}
