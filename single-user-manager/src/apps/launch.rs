//! What a new app container is made of (environment, labels, mounts, the published port),
//! worked out before Docker is called, and how to tell that the app inside answers.

use super::image::AppImage;
use ferrohub_shared::apps::{GrantModel, VolumeMode};
use ferrohub_shared::docker::ContainerSpec;
use ferrohub_shared::labels::runinfo;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

/// What the user chose at start, in simphony-remote's shape:
/// `{"resolution": {"resolution": "1280x800"}, "startupdata": {"startupdata": "/path"}}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Configurables {
    #[serde(default)]
    resolution: Option<Resolution>,
    #[serde(default)]
    startupdata: Option<StartupData>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Resolution {
    resolution: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StartupData {
    startupdata: String,
}

/// One app container to create, and how its app is reached.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// What the engine is asked for. Its `port` is the one published on the host: the
    /// app's HTTP port, or a desktop's VNC port.
    pub spec: ContainerSpec,
    /// Whether the proxy bridges websockets to that port as raw TCP (a VNC desktop).
    pub vnc: bool,
    /// The app's path, without a trailing slash: `/user/alice/containers/URL_ID`.
    pub urlpath: String,
}

/// Who is starting what, for [`plan`].
pub struct Owner<'a> {
    pub user: &'a str,
    pub server: &'a str,
    /// The server's prefix, e.g. `/user/alice/`.
    pub prefix: &'a str,
    pub realm: &'a str,
    /// Mounted as `/workspace` under `allow_home`.
    pub home: Option<&'a Path>,
    /// Where the app's port is published.
    pub host_ip: &'a str,
}

/// The default screen of a desktop, as simphony-remote's.
const DEFAULT_RESOLUTION: (u32, u32) = (1024, 768);
const DEPTH: u32 = 24;

/// Work out the container for `grant` of `image`, started with `chosen`, under `url_id`.
/// Refuses (with a sentence for the user) configurables the image or policy does not offer
/// and host paths that do not exist: Docker would create them, as root.
pub fn plan(
    owner: &Owner<'_>,
    grant: &GrantModel,
    image: &AppImage,
    chosen: &Configurables,
    url_id: &str,
) -> Result<Plan, String> {
    let urlpath = format!("{}containers/{url_id}", owner.prefix);
    let mut env: Vec<(String, String)> = Vec::new();
    if image.configurables.iter().any(|c| c == "resolution") {
        let (w, h) = match &chosen.resolution {
            Some(r) => parse_resolution(&r.resolution)?,
            None => DEFAULT_RESOLUTION,
        };
        env.push(("X11_WIDTH".into(), w.to_string()));
        env.push(("X11_HEIGHT".into(), h.to_string()));
        env.push(("X11_DEPTH".into(), DEPTH.to_string()));
    } else if chosen.resolution.is_some() {
        return Err(format!("{} has no resolution to choose", image.ui_name));
    }
    if let Some(data) = &chosen.startupdata {
        if !grant.policy.allow_startup_data || !image.accepts("STARTUPDATA") {
            return Err(format!(
                "{} takes no start-up data under this grant",
                image.ui_name
            ));
        }
        env.push(("STARTUPDATA".into(), data.startupdata.clone()));
    }
    if let Some(license) = &grant.policy.app_license {
        env.push(("APP_LICENSE".into(), license.clone()));
    }
    // simphony-remote's run information comes last, so a configurable cannot override it.
    let unix_user = owner.user.split('@').next().unwrap_or(owner.user);
    env.push(("JPY_USER".into(), owner.user.to_owned()));
    env.push((
        "JPY_BASE_USER_URL".into(),
        owner.prefix.trim_end_matches('/').to_owned(),
    ));
    env.push(("USER".into(), unix_user.to_owned()));
    env.push(("URL_ID".into(), url_id.to_owned()));

    let mut binds = Vec::new();
    if grant.policy.allow_home {
        let home = owner
            .home
            .ok_or("this grant mounts your home directory, but the manager does not know it")?;
        existing(home)?;
        binds.push(format!("{}:/workspace:rw", home.display()));
    }
    if let Some(volume) = &grant.policy.volume {
        existing(Path::new(&volume.source))?;
        let mode = match volume.mode {
            VolumeMode::Ro => "ro",
            VolumeMode::Rw => "rw",
        };
        binds.push(format!("{}:{}:{mode}", volume.source, volume.target));
    }

    let labels = HashMap::from([
        (runinfo::USER.to_owned(), owner.user.to_owned()),
        (runinfo::MAPPING_ID.to_owned(), grant.mapping_id.clone()),
        (runinfo::URL_ID.to_owned(), url_id.to_owned()),
        (runinfo::URLPATH.to_owned(), urlpath.clone()),
        (runinfo::REALM.to_owned(), owner.realm.to_owned()),
        (runinfo::SERVER.to_owned(), owner.server.to_owned()),
        (runinfo::IMAGE.to_owned(), grant.image.clone()),
    ]);
    let name = format!(
        "{}-{}-{}",
        owner.realm,
        ferrohub_shared::docker::escape(owner.user),
        url_id
    );
    Ok(Plan {
        spec: ContainerSpec {
            name,
            image: grant.image.clone(),
            env: env.into_iter().map(|(k, v)| format!("{k}={v}")).collect(),
            labels,
            binds,
            port: Some(image.vnc_port.unwrap_or(image.http_port)),
            publish_on: Some(owner.host_ip.to_owned()),
            ..ContainerSpec::default()
        },
        vnc: image.vnc_port.is_some(),
        urlpath,
    })
}

fn parse_resolution(raw: &str) -> Result<(u32, u32), String> {
    let bad = || format!("resolution {raw:?} is not WIDTHxHEIGHT, e.g. 1280x800");
    let (w, h) = raw.trim().split_once('x').ok_or_else(bad)?;
    let dim = |s: &str| {
        s.parse::<u32>()
            .ok()
            .filter(|n| (64..=8192).contains(n))
            .ok_or_else(bad)
    };
    Ok((dim(w)?, dim(h)?))
}

fn existing(path: &Path) -> Result<(), String> {
    if path.is_dir() || path.is_file() {
        Ok(())
    } else {
        Err(format!(
            "{} does not exist on the host, and is not created for you: ask your administrator",
            path.display()
        ))
    }
}

/// Whether the app at `addr` answers: any HTTP answer but a gateway error at `urlpath/` for a
/// web app (its server is up and routing), the RFB banner for a VNC desktop.
pub async fn answers(http: &reqwest::Client, addr: &str, urlpath: &str, vnc: bool) -> bool {
    if vnc {
        return rfb_banner(addr).await;
    }
    let url = format!("http://{addr}{urlpath}/");
    match tokio::time::timeout(Duration::from_secs(2), http.get(&url).send()).await {
        Ok(Ok(resp)) => !matches!(resp.status().as_u16(), 502..=504),
        _ => false,
    }
}

/// A VNC server greets with `RFB xxx.yyy\n` before the client says anything.
async fn rfb_banner(addr: &str) -> bool {
    use tokio::io::AsyncReadExt;
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
        let mut banner = [0u8; 12];
        stream.read_exact(&mut banner).await.ok()?;
        Some(banner.starts_with(b"RFB "))
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), attempt).await,
        Ok(Some(true))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrohub_shared::apps::{Grantee, Policy, Volume};

    fn grant(policy: Policy) -> GrantModel {
        GrantModel {
            mapping_id: "m1".into(),
            application_id: 1,
            image: "desk:1".into(),
            grantee: Grantee::User("ada".into()),
            policy,
            created: String::new(),
        }
    }

    fn desktop() -> AppImage {
        let labels = HashMap::from(
            [
                "eu.simphony-project.docker.env.x11-width",
                "eu.simphony-project.docker.env.x11-height",
                "eu.simphony-project.docker.env.x11-depth",
                "eu.simphony-project.docker.env.startupdata",
            ]
            .map(|k| (k.to_owned(), String::new())),
        );
        let mut image = AppImage::from_labels("desk:1", &labels).unwrap();
        image.vnc_port = Some(5900);
        image
    }

    fn owner(home: Option<&Path>) -> Owner<'_> {
        Owner {
            user: "ada@lab.example",
            server: "",
            prefix: "/user/ada@lab.example/",
            realm: "ferrohub",
            home,
            host_ip: "127.0.0.1",
        }
    }

    fn configurables(v: serde_json::Value) -> Configurables {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_desktop_gets_simphony_remotes_environment_and_labels() {
        let chosen = configurables(serde_json::json!({"resolution": {"resolution": "1280x800"}}));
        let p = plan(
            &owner(None),
            &grant(Policy::default()),
            &desktop(),
            &chosen,
            "u1",
        )
        .unwrap();
        for var in [
            "X11_WIDTH=1280",
            "X11_HEIGHT=800",
            "X11_DEPTH=24",
            "JPY_USER=ada@lab.example",
            "JPY_BASE_USER_URL=/user/ada@lab.example",
            "USER=ada",
            "URL_ID=u1",
        ] {
            assert!(
                p.spec.env.contains(&var.to_owned()),
                "{var} in {:?}",
                p.spec.env
            );
        }
        assert_eq!(
            p.spec.labels[runinfo::URLPATH],
            "/user/ada@lab.example/containers/u1"
        );
        assert_eq!(p.spec.labels[runinfo::MAPPING_ID], "m1");
        assert_eq!((p.spec.port, p.vnc), (Some(5900), true));
        assert_eq!(p.spec.name, "ferrohub-ada_40lab_2Eexample-u1");
        let default = plan(
            &owner(None),
            &grant(Policy::default()),
            &desktop(),
            &Configurables::default(),
            "u2",
        )
        .unwrap();
        assert!(default.spec.env.contains(&"X11_WIDTH=1024".to_owned()));
    }

    #[test]
    fn what_the_grant_or_image_does_not_offer_is_refused() {
        let g = grant(Policy::default());
        let startup = configurables(serde_json::json!({"startupdata": {"startupdata": "/f"}}));
        assert!(plan(&owner(None), &g, &desktop(), &startup, "u").is_err());
        let allowed = grant(Policy {
            allow_startup_data: true,
            ..Policy::default()
        });
        let p = plan(&owner(None), &allowed, &desktop(), &startup, "u").unwrap();
        assert!(p.spec.env.contains(&"STARTUPDATA=/f".to_owned()));
        for bad in ["big", "10x10", "1280x", "99999x800"] {
            let c = configurables(serde_json::json!({"resolution": {"resolution": bad}}));
            assert!(
                plan(&owner(None), &g, &desktop(), &c, "u").is_err(),
                "{bad}"
            );
        }
        let web = AppImage::from_labels("web:1", &HashMap::new()).unwrap();
        let c = configurables(serde_json::json!({"resolution": {"resolution": "800x600"}}));
        assert!(plan(&owner(None), &g, &web, &c, "u").is_err());
    }

    #[test]
    fn mounts_must_exist_and_are_never_created() {
        let dir = std::env::temp_dir();
        let with_home = grant(Policy {
            allow_home: true,
            volume: Some(Volume::parse(&format!("{}:/data:ro", dir.display())).unwrap()),
            ..Policy::default()
        });
        let web = AppImage::from_labels("web:1", &HashMap::new()).unwrap();
        let p = plan(
            &owner(Some(&dir)),
            &with_home,
            &web,
            &Configurables::default(),
            "u",
        )
        .unwrap();
        assert_eq!(
            p.spec.binds,
            [
                format!("{}:/workspace:rw", dir.display()),
                format!("{}:/data:ro", dir.display())
            ]
        );
        assert_eq!((p.spec.port, p.vnc), (Some(8888), false));
        let missing = grant(Policy {
            volume: Some(Volume::parse("/no/such/ferrohub/dir:/data:ro").unwrap()),
            ..Policy::default()
        });
        let err = plan(&owner(None), &missing, &web, &Configurables::default(), "u").unwrap_err();
        assert!(
            err.contains("/no/such/ferrohub/dir does not exist"),
            "{err}"
        );
        assert!(plan(
            &owner(None),
            &with_home,
            &web,
            &Configurables::default(),
            "u"
        )
        .is_err());
    }
}
