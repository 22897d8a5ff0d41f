//! Container names from `DockerSpawner.name_template`, escaped the way DockerSpawner escapes
//! them, and the HTML escaping of the image form.

use crate::spawner::SpawnRequest;
use ferrohub_shared::docker::escape;

/// `{username}` and `{servername}` escaped for Docker (letters, digits and `-` stay; any
/// other byte becomes `_XX`, as the `escapism` package DockerSpawner uses), `{imagename}`
/// with `/` and `:` turned into `-`. A named server's name gets `--{servername}` appended
/// when the template lacks it (DockerSpawner's default for named servers), so two servers
/// of one user never share a container name.
pub(super) fn container_name(template: &str, req: &SpawnRequest, image: &str) -> String {
    let mut template = template.to_owned();
    if !req.server_name.is_empty() && !template.contains("{servername}") {
        template.push_str("--{servername}");
    }
    template
        .replace("{username}", &escape(&req.user))
        .replace("{servername}", &escape(&req.server_name.to_lowercase()))
        .replace("{imagename}", &image.replace(['/', ':'], "-"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn req(user: &str, server: &str) -> SpawnRequest {
        SpawnRequest {
            user: user.into(),
            server_name: server.into(),
            base_url: "/user/x/".into(),
            env: BTreeMap::new(),
            user_options: json!({}),
        }
    }

    #[test]
    fn names_follow_dockerspawner() {
        let t = "jupyter-{username}";
        assert_eq!(container_name(t, &req("alice", ""), "i"), "jupyter-alice");
        assert_eq!(
            container_name(t, &req("alice", "Lab"), "i"),
            "jupyter-alice--lab"
        );
        assert_eq!(
            container_name(t, &req("a.b@c_d", ""), "i"),
            "jupyter-a_2Eb_40c_5Fd"
        );
        assert_eq!(container_name(t, &req("zoë", ""), "i"), "jupyter-zo_C3_AB");
        assert_eq!(
            container_name(
                "{imagename}-{username}-{servername}",
                &req("bob", "x"),
                "q.io/img:1"
            ),
            "q.io-img-1-bob-x"
        );
    }
}
