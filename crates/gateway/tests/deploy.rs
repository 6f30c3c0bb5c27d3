//! `deploy/`: the image recipe and the Kubernetes manifests, checked against
//! one another and against the gateway they run, so that neither drifts:
//! every YAML document under `deploy/` parses, names and selectors meet,
//! the mounted config loads with the gateway's own loader (with the files
//! the Secret mounts), and a gateway started as the image starts it, on
//! that config, answers the Deployment's probes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_checkout-gateway");

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn k8s() -> PathBuf {
    repo().join("deploy/k8s")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every file under `dir` whose name ends in one of `extensions`.
fn files_under(dir: &Path, extensions: &[&str]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            found.extend(files_under(&path, extensions));
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| extensions.contains(&e))
        {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// Every YAML document of a file (`---` separates several).
fn documents(path: &Path) -> Vec<Value> {
    let text = read(path);
    serde_norway::Deserializer::from_str(&text)
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .collect()
}

/// The Kubernetes objects of `deploy/k8s`, and its kustomization.
struct Manifests {
    /// Each manifest file's name and its objects.
    files: BTreeMap<String, Vec<Value>>,
    kustomization: Value,
}

/// Not applied (`kubectl apply -k` would overwrite the real one): it shows
/// the Secret's shape.
const SECRET_EXAMPLE: &str = "secret.example.yaml";
const KUSTOMIZATION: &str = "kustomization.yaml";

impl Manifests {
    fn load() -> Manifests {
        let mut files = BTreeMap::new();
        let mut kustomization = None;
        for path in files_under(&k8s(), &["yaml", "yml"]) {
            let name = path
                .strip_prefix(k8s())
                .expect("under deploy/k8s")
                .display()
                .to_string();
            let mut docs = documents(&path);
            if name == KUSTOMIZATION {
                assert_eq!(docs.len(), 1, "{name}: one document");
                kustomization = docs.pop();
            } else {
                files.insert(name, docs);
            }
        }
        Manifests {
            files,
            kustomization: kustomization.expect("deploy/k8s/kustomization.yaml"),
        }
    }

    /// The one object of `kind`.
    fn one(&self, kind: &str) -> &Value {
        let found: Vec<&Value> = self
            .files
            .values()
            .flatten()
            .filter(|d| d["kind"] == kind)
            .collect();
        assert_eq!(found.len(), 1, "exactly one {kind} in deploy/k8s");
        found[0]
    }

    fn deployment(&self) -> &Value {
        self.one("Deployment")
    }
}

fn pod(deployment: &Value) -> &Value {
    &deployment["spec"]["template"]["spec"]
}

/// The gateway's container (the pod has no other).
fn container(deployment: &Value) -> &Value {
    let containers = pod(deployment)["containers"]
        .as_array()
        .expect("containers");
    assert_eq!(containers.len(), 1, "one container");
    &containers[0]
}

fn str_of<'a>(value: &'a Value, what: &str) -> &'a str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{what}: a string, found {value}"))
}

fn u64_of(value: &Value, what: &str) -> u64 {
    value
        .as_u64()
        .unwrap_or_else(|| panic!("{what}: a number, found {value}"))
}

/// A probe's or the Service's port, by number or by the container port's name.
fn container_port(deployment: &Value, port: &Value) -> u64 {
    if let Some(number) = port.as_u64() {
        return number;
    }
    let name = str_of(port, "port");
    let ports = container(deployment)["ports"].as_array().expect("ports");
    let named = ports
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no container port named {name}"));
    u64_of(&named["containerPort"], "containerPort")
}

/// Where the volume whose `source` (`configMap`, `secret`) names `key`
/// is mounted, and that name.
fn mount(deployment: &Value, source: &str, key: &str) -> (PathBuf, String) {
    let volumes = pod(deployment)["volumes"].as_array().expect("volumes");
    let volume = volumes
        .iter()
        .find(|v| v[source].is_object())
        .unwrap_or_else(|| panic!("a {source} volume"));
    let mounts = container(deployment)["volumeMounts"]
        .as_array()
        .expect("volumeMounts");
    let mounted = mounts
        .iter()
        .find(|m| m["name"] == volume["name"])
        .unwrap_or_else(|| panic!("the {source} volume is mounted"));
    assert!(
        mounted["subPath"].is_null(),
        "a subPath mount never sees an update"
    );
    (
        PathBuf::from(str_of(&mounted["mountPath"], "mountPath")),
        str_of(&volume[source][key], key).to_owned(),
    )
}

/// The `matchLabels` of a selector, which must all be on the pods.
fn assert_selects_the_pods(what: &str, selector: &Value, deployment: &Value) {
    let labels = &deployment["spec"]["template"]["metadata"]["labels"];
    let wanted = selector["matchLabels"]
        .as_object()
        .unwrap_or_else(|| panic!("{what}: matchLabels"));
    assert!(
        !wanted.is_empty(),
        "{what}: an empty selector takes every pod"
    );
    for (key, value) in wanted {
        assert_eq!(&labels[key], value, "{what} selects {key}={value}");
    }
}

#[test]
fn every_yaml_file_under_deploy_parses_into_named_objects() {
    let files = files_under(&repo().join("deploy"), &["yaml", "yml"]);
    assert!(files.len() >= 6, "{files:?}");
    let mut seen = BTreeSet::new();
    for path in files {
        let docs = documents(&path);
        assert!(!docs.is_empty(), "{}: no document", path.display());
        for doc in docs {
            let kind = str_of(&doc["kind"], "kind");
            str_of(&doc["apiVersion"], "apiVersion");
            if kind == "Kustomization" {
                continue;
            }
            let name = str_of(&doc["metadata"]["name"], "metadata.name");
            assert!(
                seen.insert((kind.to_owned(), name.to_owned())),
                "{kind} {name} twice"
            );
        }
    }
}

#[test]
fn the_kustomization_applies_every_manifest_and_mounts_the_generated_config() {
    let manifests = Manifests::load();
    let k = &manifests.kustomization;
    let listed: BTreeSet<&str> = k["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| str_of(r, "resource"))
        .collect();
    let present: BTreeSet<&str> = manifests
        .files
        .keys()
        .map(String::as_str)
        .filter(|name| *name != SECRET_EXAMPLE)
        .collect();
    assert_eq!(listed, present, "kustomization.yaml resources");
    assert!(!listed.contains(SECRET_EXAMPLE));

    let generators = k["configMapGenerator"]
        .as_array()
        .expect("configMapGenerator");
    assert_eq!(generators.len(), 1);
    let (_, volume_name) = mount(manifests.deployment(), "configMap", "name");
    assert_eq!(generators[0]["name"], volume_name.as_str());
    for file in generators[0]["files"].as_array().expect("files") {
        let file = str_of(file, "file");
        assert!(k8s().join(file).is_file(), "configMapGenerator file {file}");
    }

    // The image the Deployment runs is this crate's version, and the
    // kustomization's image entry is the one that renames it.
    let image = str_of(&container(manifests.deployment())["image"], "image");
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(image, format!("checkout-gateway:{version}"));
    let images = k["images"].as_array().expect("images");
    assert!(
        images
            .iter()
            .any(|i| i["name"] == "checkout-gateway" && i["newTag"] == version),
        "{images:?}"
    );
}

#[test]
fn selectors_ports_and_volumes_meet() {
    let manifests = Manifests::load();
    let deployment = manifests.deployment();
    let name = str_of(&deployment["metadata"]["name"], "Deployment name");
    assert_selects_the_pods("Deployment", &deployment["spec"]["selector"], deployment);

    let service = manifests.one("Service");
    let selector = serde_json::json!({"matchLabels": service["spec"]["selector"]});
    assert_selects_the_pods("Service", &selector, deployment);
    for port in service["spec"]["ports"].as_array().expect("Service ports") {
        container_port(deployment, &port["targetPort"]);
    }

    let pdb = manifests.one("PodDisruptionBudget");
    assert_eq!(pdb["apiVersion"], "policy/v1");
    assert_selects_the_pods("PodDisruptionBudget", &pdb["spec"]["selector"], deployment);

    let hpa = manifests.one("HorizontalPodAutoscaler");
    assert_eq!(hpa["apiVersion"], "autoscaling/v2");
    let target = &hpa["spec"]["scaleTargetRef"];
    assert_eq!(target["kind"], "Deployment");
    assert_eq!(target["apiVersion"], deployment["apiVersion"]);
    assert_eq!(target["name"], name);

    // Every mount names a declared volume, and every volume is mounted.
    let declared: BTreeSet<&str> = pod(deployment)["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .map(|v| str_of(&v["name"], "volume name"))
        .collect();
    let mounted: BTreeSet<&str> = container(deployment)["volumeMounts"]
        .as_array()
        .expect("volumeMounts")
        .iter()
        .map(|m| str_of(&m["name"], "volumeMount name"))
        .collect();
    assert_eq!(mounted, declared);

    let (_, secret_name) = mount(deployment, "secret", "secretName");
    let example = &documents(&k8s().join(SECRET_EXAMPLE))[0];
    assert_eq!(example["kind"], "Secret");
    assert_eq!(example["metadata"]["name"], secret_name.as_str());
}

#[test]
fn pods_run_unprivileged_and_scale_without_a_gap() {
    let manifests = Manifests::load();
    let deployment = manifests.deployment();
    let pod_security = &pod(deployment)["securityContext"];
    assert_eq!(pod_security["runAsNonRoot"], true);
    assert_ne!(u64_of(&pod_security["runAsUser"], "runAsUser"), 0);
    let security = &container(deployment)["securityContext"];
    assert_eq!(security["runAsNonRoot"], true);
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(security["capabilities"]["drop"], serde_json::json!(["ALL"]));
    assert_ne!(security["privileged"], true);
    // Secret files: owner and group only.
    let volumes = pod(deployment)["volumes"].as_array().expect("volumes");
    for volume in volumes.iter().filter(|v| v["secret"].is_object()) {
        let mode = u64_of(&volume["secret"]["defaultMode"], "defaultMode");
        assert_eq!(mode & 0o007, 0, "secret files readable by others");
    }

    // Several replicas; a drain or a rollout never takes them all.
    let replicas = u64_of(&deployment["spec"]["replicas"], "replicas");
    let hpa = &manifests.one("HorizontalPodAutoscaler")["spec"];
    let min = u64_of(&hpa["minReplicas"], "minReplicas");
    assert!(
        replicas >= 2 && min >= 2,
        "replicas {replicas}, minReplicas {min}"
    );
    assert_eq!(
        replicas, min,
        "applying the Deployment again keeps the floor"
    );
    assert!(u64_of(&hpa["maxReplicas"], "maxReplicas") > min);
    let pdb = &manifests.one("PodDisruptionBudget")["spec"];
    let unavailable = u64_of(&pdb["maxUnavailable"], "maxUnavailable");
    assert!(
        unavailable >= 1 && unavailable < min,
        "maxUnavailable {unavailable}"
    );
    assert_eq!(
        deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"],
        0
    );
    // The autoscaler's CPU utilisation is measured against the request.
    assert!(hpa["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .any(|m| m["resource"]["name"] == "cpu"));
    str_of(
        &container(deployment)["resources"]["requests"]["cpu"],
        "resources.requests.cpu",
    );
}

/// The files a pod sees, laid out on this machine: config.toml and the
/// example Secret's keys, each under a temporary directory where its mount
/// would put it, and the config's `*_file` paths moved along.
struct PodFiles {
    root: tempfile::TempDir,
    config: PathBuf,
    /// The Secret's files, by key.
    secrets: BTreeMap<String, PathBuf>,
}

fn under(root: &Path, mount: &Path) -> PathBuf {
    root.join(mount.strip_prefix("/").unwrap_or(mount))
}

fn pod_files(deployment: &Value) -> PodFiles {
    let root = tempfile::tempdir().expect("a temporary directory");
    let (secret_mount, _) = mount(deployment, "secret", "secretName");
    let example = &documents(&k8s().join(SECRET_EXAMPLE))[0];
    let mut secrets = BTreeMap::new();
    for (key, value) in example["stringData"].as_object().expect("stringData") {
        let path = under(root.path(), &secret_mount).join(key);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(&path, str_of(value, key)).expect("write a secret file");
        secrets.insert(key.clone(), path);
    }

    let mut config: toml::Value = toml::from_str(&read(&k8s().join("config.toml"))).expect("TOML");
    let mut used = BTreeSet::new();
    relocate_files(&mut config, "", &secret_mount, &secrets, &mut used);
    let unused: Vec<&String> = secrets.keys().filter(|k| !used.contains(*k)).collect();
    assert!(
        unused.is_empty(),
        "Secret keys no config key names: {unused:?}"
    );

    let (config_mount, _) = mount(deployment, "configMap", "name");
    let path = under(root.path(), &config_mount).join("config.toml");
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(&path, toml::to_string(&config).expect("TOML")).expect("write the config");
    PodFiles {
        root,
        config: path,
        secrets,
    }
}

/// Every `*_file` key must name a file of the Secret's mount; it is pointed
/// at that file's copy here.
fn relocate_files(
    value: &mut toml::Value,
    path: &str,
    mount: &Path,
    secrets: &BTreeMap<String, PathBuf>,
    used: &mut BTreeSet<String>,
) {
    let toml::Value::Table(table) = value else {
        return;
    };
    for (key, item) in table.iter_mut() {
        let path = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        if key.ends_with("_file") {
            let file = Path::new(item.as_str().unwrap_or_else(|| panic!("{path}: a path")));
            let name = file
                .strip_prefix(mount)
                .ok()
                .and_then(|rest| rest.to_str())
                .unwrap_or_else(|| {
                    panic!("{path}: not under the Secret's mount {}", mount.display())
                });
            let copy = secrets
                .get(name)
                .unwrap_or_else(|| panic!("{path}: the Secret has no key {name}"));
            used.insert(name.to_owned());
            *item = toml::Value::String(copy.display().to_string());
        } else {
            relocate_files(item, &path, mount, secrets, used);
        }
    }
}

#[tokio::test]
async fn the_mounted_config_loads_with_the_gateway_loader() {
    let manifests = Manifests::load();
    let deployment = manifests.deployment();
    let files = pod_files(deployment);
    let figment = checkout_gateway::config::figment(Some(&files.config));
    let (config, state) =
        checkout_gateway::cmd::serve::load(&figment).unwrap_or_else(|e| panic!("{e}"));

    // The container port, the probes' port and the Service's target are
    // the port the gateway listens on, on every interface.
    let port = u64::from(config.server.listen.port());
    assert!(
        config.server.listen.ip().is_unspecified(),
        "{}",
        config.server.listen
    );
    let container = container(deployment);
    for probe in ["startupProbe", "livenessProbe", "readinessProbe"] {
        let probe = &container[probe]["httpGet"];
        assert_eq!(container_port(deployment, &probe["port"]), port);
    }
    let service = manifests.one("Service");
    for p in service["spec"]["ports"].as_array().expect("Service ports") {
        assert_eq!(container_port(deployment, &p["targetPort"]), port);
    }

    // Replicas share one PostgreSQL store and one cursor key, so nothing
    // is written to data_dir: the root filesystem may stay read-only.
    let url = config.store_url().expect("the store URL from its file");
    assert_eq!(
        store::Backend::of(&url).expect("a store URL"),
        store::Backend::Postgres
    );
    assert!(config.list.cursor_secret_file.is_some());
    let key = state.list.key().expect("the cursor key from its file");
    assert_eq!(key, read(&files.secrets["list-cursor-secret"]).as_bytes());

    // SIGTERM comes after the preStop pause; in-flight requests then get
    // shutdown_grace_secs, all before the pod's grace period ends.
    let pause = u64_of(
        &container["lifecycle"]["preStop"]["sleep"]["seconds"],
        "preStop sleep",
    );
    let grace = u64_of(
        &pod(deployment)["terminationGracePeriodSeconds"],
        "terminationGracePeriodSeconds",
    );
    assert!(
        grace > pause + config.resilience.shutdown_grace_secs,
        "terminationGracePeriodSeconds {grace} ≤ preStop {pause} + shutdown_grace_secs {}",
        config.resilience.shutdown_grace_secs
    );
}

/// One Dockerfile instruction (continuation lines joined).
struct Instruction {
    name: String,
    args: String,
}

/// `deploy/Dockerfile`'s stages, each its instructions from its `FROM`.
fn dockerfile_stages() -> Vec<Vec<Instruction>> {
    let text = read(&repo().join("deploy/Dockerfile"));
    let mut stages: Vec<Vec<Instruction>> = Vec::new();
    let mut logical = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || (line.is_empty() && logical.is_empty()) {
            continue;
        }
        if let Some(part) = line.strip_suffix('\\') {
            logical.push_str(part);
            logical.push(' ');
            continue;
        }
        logical.push_str(line);
        let (name, args) = logical.split_once(' ').unwrap_or((&logical, ""));
        let instruction = Instruction {
            name: name.to_uppercase(),
            args: args.trim().to_owned(),
        };
        if instruction.name == "FROM" {
            stages.push(Vec::new());
        }
        stages
            .last_mut()
            .expect("FROM comes first")
            .push(instruction);
        logical.clear();
    }
    stages
}

fn instruction<'a>(stage: &'a [Instruction], name: &str) -> &'a str {
    let found: Vec<&Instruction> = stage.iter().filter(|i| i.name == name).collect();
    assert_eq!(found.len(), 1, "one {name} in the stage");
    &found[0].args
}

/// The Debian release an image is built on, from its tag.
fn debian_release(image: &str) -> Option<u32> {
    [
        ("bookworm", 12),
        ("debian12", 12),
        ("trixie", 13),
        ("debian13", 13),
    ]
    .into_iter()
    .find(|(name, _)| image.contains(name))
    .map(|(_, release)| release)
}

fn version_of(text: &str) -> Vec<u64> {
    text.split('.')
        .map(|n| n.parse().unwrap_or_else(|_| panic!("a version: {text}")))
        .collect()
}

/// What the image starts: `ENTRYPOINT`, exec form.
fn entrypoint(runtime: &[Instruction]) -> Vec<String> {
    serde_json::from_str(instruction(runtime, "ENTRYPOINT"))
        .expect("ENTRYPOINT in exec form (a JSON array): there is no shell to run it")
}

/// The argument after `flag`.
fn argument<'a>(args: &'a [String], flag: &str) -> &'a str {
    let at = args
        .iter()
        .position(|a| a == flag)
        .unwrap_or_else(|| panic!("{flag} in {args:?}"));
    args.get(at + 1)
        .unwrap_or_else(|| panic!("a value after {flag}"))
}

#[test]
fn the_image_runs_what_the_deployment_mounts() {
    let stages = dockerfile_stages();
    assert!(stages.len() >= 2, "a build stage and a runtime stage");
    let (build, runtime) = (&stages[0], &stages[stages.len() - 1]);

    // Built with a pinned toolchain no older than the workspace's floor,
    // from Cargo.lock as committed.
    let from = instruction(build, "FROM");
    let tag = from
        .split_whitespace()
        .next()
        .and_then(|image| image.rsplit_once(':'))
        .map(|(_, tag)| tag)
        .unwrap_or_else(|| panic!("a tagged build image: {from}"));
    let toolchain = tag.split('-').next().unwrap_or_default();
    assert_eq!(toolchain.split('.').count(), 3, "an exact toolchain: {tag}");
    let workspace: toml::Value = toml::from_str(&read(&repo().join("Cargo.toml"))).expect("TOML");
    let floor = workspace["workspace"]["package"]["rust-version"]
        .as_str()
        .expect("rust-version");
    assert!(
        version_of(toolchain) >= version_of(floor),
        "{toolchain} < {floor}"
    );
    let runs: Vec<&str> = build
        .iter()
        .filter(|i| i.name == "RUN")
        .map(|i| i.args.as_str())
        .collect();
    assert!(
        runs.iter()
            .any(|r| r.contains("cargo build --release --locked -p checkout-gateway")),
        "{runs:?}"
    );

    // One glibc: the runtime's Debian release is the build's.
    let base = instruction(runtime, "FROM");
    assert!(debian_release(from).is_some(), "{from}");
    assert_eq!(
        debian_release(from),
        debian_release(base),
        "{from} vs {base}"
    );

    // A numeric user (Kubernetes checks runAsNonRoot against it), the
    // pod's own.
    let manifests = Manifests::load();
    let deployment = manifests.deployment();
    let user = instruction(runtime, "USER");
    let (uid, gid) = user.split_once(':').unwrap_or((user, user));
    let uid: u64 = uid.parse().expect("a numeric USER");
    let gid: u64 = gid.parse().expect("a numeric group");
    assert_ne!(uid, 0, "USER root");
    let pod_security = &pod(deployment)["securityContext"];
    assert_eq!(pod_security["runAsUser"], uid);
    assert_eq!(pod_security["runAsGroup"], gid);

    // The binary it copies is the one it starts, with the config where the
    // ConfigMap is mounted, on the port the container declares.
    let args = entrypoint(runtime);
    let copy = instruction(runtime, "COPY");
    assert!(copy.ends_with(&format!(" {}", args[0])), "COPY {copy}");
    assert!(args.iter().any(|a| a == "serve"), "{args:?}");
    let (config_mount, _) = mount(deployment, "configMap", "name");
    assert_eq!(
        Path::new(argument(&args, "--config")),
        config_mount.join("config.toml")
    );
    let container = container(deployment);
    assert!(
        container["command"].is_null() && container["args"].is_null(),
        "the Deployment runs the image's ENTRYPOINT as it is"
    );
    let exposed: u64 = instruction(runtime, "EXPOSE").parse().expect("a port");
    let declared: Vec<u64> = container["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .map(|p| u64_of(&p["containerPort"], "containerPort"))
        .collect();
    assert_eq!(declared, [exposed]);

    // The build context keeps what the build reads, and not target/.
    let ignored: Vec<String> = read(&repo().join(".dockerignore"))
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    assert!(ignored.iter().any(|p| p == "target"), "{ignored:?}");
    for needed in [
        "Cargo.toml",
        "Cargo.lock",
        "crates/gateway/src/main.rs",
        "config/demo.toml",
        "tests/support/lib.rs",
    ] {
        for pattern in &ignored {
            assert!(
                !ignores(pattern, needed),
                ".dockerignore `{pattern}` drops {needed}"
            );
        }
    }
}

/// Whether a `.dockerignore` pattern (`*` within a segment, `**` across
/// segments) drops `path` or a folder holding it.
fn ignores(pattern: &str, path: &str) -> bool {
    fn segment(pattern: &str, name: &str) -> bool {
        match pattern.split_once('*') {
            None => pattern == name,
            Some((head, tail)) => {
                name.starts_with(head)
                    && (0..=name.len() - head.len()).any(|i| {
                        name.is_char_boundary(head.len() + i)
                            && segment(tail, &name[head.len() + i..])
                    })
            }
        }
    }
    fn walk(pattern: &[&str], path: &[&str]) -> bool {
        match (pattern.first(), path.first()) {
            (None, _) => true,
            (Some(&"**"), _) => (0..=path.len()).any(|i| walk(&pattern[1..], &path[i..])),
            (Some(p), Some(n)) => segment(p, n) && walk(&pattern[1..], &path[1..]),
            (Some(_), None) => false,
        }
    }
    let pattern: Vec<&str> = pattern.trim_matches('/').split('/').collect();
    let path: Vec<&str> = path.split('/').collect();
    walk(&pattern, &path)
}

#[test]
fn dockerignore_patterns_match_like_docker() {
    assert!(ignores("target", "target/release/x"));
    assert!(ignores("**/node_modules", "tests/sdk/a/node_modules/x.js"));
    assert!(ignores("**/*.snap.new", "crates/a/snapshots/b.snap.new"));
    assert!(!ignores("target", "crates/target-x/src/lib.rs"));
    assert!(!ignores("fuzz/target", "fuzz/src/lib.rs"));
}

/// A gateway started as the image starts it (its ENTRYPOINT's arguments),
/// on the mounted config and the Secret's files, answers each probe of the
/// Deployment, and writes nothing outside its mounts and its store. The
/// store file points at the test PostgreSQL when there is one, else at a
/// SQLite file; the port is a free one (the config's is checked above).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_probes_answer_on_the_deployed_config() {
    let manifests = Manifests::load();
    let deployment = manifests.deployment();
    let files = pod_files(deployment);
    let postgres = store::testing::schema_or_skip().await;
    let store_url = match &postgres {
        Some(schema) => schema.url.clone(),
        None => store::sqlite_url(&files.root.path().join("db/gateway.db")),
    };
    std::fs::write(&files.secrets["store-url"], &store_url).expect("write store-url");

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let stages = dockerfile_stages();
    let mut args = entrypoint(stages.last().expect("a runtime stage"));
    let at = args.iter().position(|a| a == "--config").expect("--config");
    args[at + 1] = files.config.display().to_string();
    let workdir = files.root.path().join("workdir");
    std::fs::create_dir(&workdir).expect("mkdir");
    let log = files.root.path().join("gateway.log");
    let mut gateway = Running(
        Command::new(BIN)
            .args(&args[1..])
            .env(
                "CHECKOUT_GATEWAY__SERVER__LISTEN",
                format!("127.0.0.1:{port}"),
            )
            .current_dir(&workdir)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("a log file"))
            .spawn()
            .expect("spawn checkout-gateway"),
    );

    let container = container(deployment);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("an HTTP client");
    let give_up = Instant::now() + Duration::from_secs(30);
    for probe in ["startupProbe", "livenessProbe", "readinessProbe"] {
        let path = str_of(&container[probe]["httpGet"]["path"], "probe path");
        let url = format!("http://127.0.0.1:{port}{path}");
        let status = loop {
            match http.get(&url).send().await {
                Ok(answer) => break answer.status(),
                Err(_) if Instant::now() < give_up => {
                    if let Ok(Some(exit)) = gateway.0.try_wait() {
                        panic!("the gateway exited ({exit}):\n{}", read(&log));
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("{probe} {path}: {e}\n{}", read(&log)),
            }
        };
        assert_eq!(status, 200, "{probe} {path}\n{}", read(&log));
    }
    drop(gateway);
    let written: Vec<_> = std::fs::read_dir(&workdir)
        .expect("the working directory")
        .collect();
    assert!(written.is_empty(), "written beside the mounts: {written:?}");
    if let Some(schema) = postgres {
        schema.drop().await.expect("drop the test schema");
    }
}

/// A child process killed when the test ends, passed or not.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
