//! The reporter's deployment (`prow-integration/deploy/`), the collector's
//! example pods and the example Prow jobs, checked by the real things:
//! kube-apiserver v1.36.3 (server-side dry-run apply with strict field
//! validation; RBAC by SubjectAccessReview) and Prow's own
//! `checkconfig --strict`, both from `scripts/kube-testenv.sh`. The tests
//! that need them are ignored by default and fail, never skip, when the
//! tool or the cluster is missing:
//!
//! ```sh
//! scripts/kube-testenv.sh start; eval "$(scripts/kube-testenv.sh env)"
//! cargo test -p covlens-prow --test deploy -- --include-ignored
//! ```
//!
//! Requests go through curl (as scripts/kube-testenv-smoke.sh does): the
//! token is passed on stdin, never on a command line.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const NEEDS_CLUSTER: &str = "start the test cluster first: scripts/kube-testenv.sh start; \
     eval \"$(scripts/kube-testenv.sh env)\"";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate is in the workspace")
        .to_path_buf()
}

fn deploy_dir() -> PathBuf {
    repo().join("prow-integration/deploy")
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    v.sort();
    v
}

/// The Kubernetes manifests: the reporter's (not its kustomization, not
/// its standalone config, not the Prow job configs) and the collector's
/// example pods.
fn manifests() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = yaml_files(&deploy_dir())
        .into_iter()
        .filter(|p| {
            let n = p.file_name().unwrap().to_str().unwrap();
            n != "kustomization.yaml" && n != "reporter-config.yaml"
        })
        .collect();
    v.push(repo().join("collector/deploy/e2e-pod.yaml"));
    v
}

/// The Prow job configs.
fn job_configs() -> Vec<PathBuf> {
    let mut v = yaml_files(&deploy_dir().join("jobs"));
    assert!(
        !v.is_empty(),
        "no job configs in prow-integration/deploy/jobs"
    );
    v.push(repo().join("collector/deploy/prow-job.yaml"));
    v
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The YAML documents of a file, split on `---` lines as kubectl does;
/// documents of only comments and blank lines are dropped.
fn documents(p: &Path) -> Vec<String> {
    let text = read(p);
    let mut docs = vec![String::new()];
    for line in text.split_inclusive('\n') {
        if line.trim_end() == "---" {
            docs.push(String::new());
        } else {
            docs.last_mut().unwrap().push_str(line);
        }
    }
    docs.retain(|d| {
        d.lines()
            .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
    });
    assert!(!docs.is_empty(), "{}: no YAML documents", p.display());
    docs
}

fn parse(text: &str, origin: &str) -> Value {
    serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("{origin}: not YAML: {e}"))
}

fn str_at<'a>(v: &'a Value, ptr: &str, origin: &str) -> &'a str {
    v.pointer(ptr)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{origin}: no string at {ptr}"))
}

/// Every (job name, job) of a Prow job config.
fn jobs_of(p: &Path) -> Vec<(String, Value)> {
    let origin = p.display().to_string();
    let cfg = parse(&read(p), &origin);
    let mut jobs = Vec::new();
    for kind in ["periodics", "postsubmits", "presubmits"] {
        let Some(section) = cfg.get(kind) else {
            continue;
        };
        let lists: Vec<&Value> = match section {
            Value::Array(_) => vec![section],
            Value::Object(by_repo) => by_repo.values().collect(),
            _ => panic!("{origin}: {kind} is neither a list nor a map"),
        };
        for list in lists {
            for job in list.as_array().expect("a list of jobs") {
                jobs.push((str_at(job, "/name", &origin).to_owned(), job.clone()));
            }
        }
    }
    assert!(!jobs.is_empty(), "{origin}: no jobs");
    jobs
}

// ---------------------------------------------------------------- no tools

#[test]
fn configmap_holds_exactly_reporter_config_yaml() {
    let cm_path = deploy_dir().join("configmap.yaml");
    let cm = parse(&read(&cm_path), "configmap.yaml");
    assert_eq!(cm["kind"], "ConfigMap");
    let embedded = str_at(&cm, "/data/config.yaml", "configmap.yaml");
    let file = read(&deploy_dir().join("reporter-config.yaml"));
    assert_eq!(
        embedded, file,
        "configmap.yaml's config.yaml differs from reporter-config.yaml: edit both"
    );
}

#[test]
fn reporter_config_deployment_and_jobs_agree() {
    let cfg = parse(
        &read(&deploy_dir().join("reporter-config.yaml")),
        "reporter-config.yaml",
    );
    // The keys of issue 11 §2, with their meaning.
    for key in [
        "name",
        "namespace",
        "artifacts",
        "publish",
        "dashboards",
        "presubmits",
        "filters",
        "github",
        "history",
    ] {
        assert!(cfg.get(key).is_some(), "reporter-config.yaml: no `{key}`");
    }
    let jobs: BTreeSet<String> = job_configs()
        .iter()
        .flat_map(|p| jobs_of(p).into_iter().map(|(n, _)| n))
        .collect();
    let mut wanted = Vec::new();
    for d in cfg["dashboards"].as_array().expect("dashboards: a list") {
        let cols = d["columns"].as_array().expect("columns: a list");
        assert!(cols.len() >= 3, "a column per branch: {cols:?}");
        wanted.extend(cols.iter().map(|c| str_at(c, "/job", "column").to_owned()));
    }
    for p in cfg["presubmits"].as_array().expect("presubmits: a list") {
        wanted.push(str_at(p, "/job", "presubmit").to_owned());
        wanted.push(str_at(p, "/base", "presubmit").to_owned());
    }
    for job in &wanted {
        assert!(
            jobs.contains(job),
            "reporter-config.yaml names {job}, which no job config in deploy/jobs defines ({jobs:?})"
        );
    }

    // The Deployment runs the reporter on that config, with the token and
    // the port the config names.
    let dep = parse(
        &read(&deploy_dir().join("deployment.yaml")),
        "deployment.yaml",
    );
    assert_eq!(dep["spec"]["replicas"], 2);
    let pod = &dep["spec"]["template"]["spec"];
    let c = &pod["containers"][0];
    let mut argv: Vec<&str> = c["command"]
        .as_array()
        .unwrap()
        .iter()
        .chain(c["args"].as_array().unwrap())
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(argv.remove(0).ends_with("/covlens"), "{argv:?}");
    assert_eq!(
        argv,
        ["prow", "reporter", "--config", "/etc/covlens/config.yaml"]
    );
    let mount = |vol: &str| -> String {
        let m = c["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == vol)
            .unwrap_or_else(|| panic!("no mount of volume {vol}"));
        assert_eq!(m["readOnly"], true, "{vol} is mounted read-only");
        m["mountPath"].as_str().unwrap().to_owned()
    };
    let volume = |vol: &str| -> Value {
        pod["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == vol)
            .unwrap_or_else(|| panic!("no volume {vol}"))
            .clone()
    };
    assert_eq!(mount("config"), "/etc/covlens");
    assert_eq!(
        volume("config")["configMap"]["name"],
        parse(
            &read(&deploy_dir().join("configmap.yaml")),
            "configmap.yaml"
        )["metadata"]["name"]
    );
    let token = Path::new(str_at(&cfg, "/github/token_file", "reporter-config.yaml"));
    assert_eq!(
        Path::new(&mount("github-token")),
        token.parent().unwrap(),
        "github.token_file is in the token Secret's mount"
    );
    let key = token.file_name().unwrap().to_str().unwrap();
    assert!(
        volume("github-token")["secret"]["items"].is_null(),
        "the Secret's keys are its file names: key `{key}`"
    );
    let listen = str_at(&cfg, "/listen", "reporter-config.yaml");
    let port: u64 = listen.rsplit(':').next().unwrap().parse().unwrap();
    assert_eq!(c["ports"][0]["containerPort"], port);
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);

    // `kubectl apply -k` applies every manifest of the directory.
    let kz = parse(
        &read(&deploy_dir().join("kustomization.yaml")),
        "kustomization.yaml",
    );
    let listed: BTreeSet<&str> = kz["resources"]
        .as_array()
        .expect("kustomization.yaml: resources")
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    let files: BTreeSet<String> = manifests()
        .iter()
        .filter(|p| p.starts_with(deploy_dir()))
        .map(|p| p.file_name().unwrap().to_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        listed,
        files.iter().map(String::as_str).collect(),
        "kustomization.yaml's resources"
    );

    // The Role lets the service account the Deployment runs as into the
    // namespace the reporter watches.
    let ns = str_at(&cfg, "/namespace", "reporter-config.yaml");
    for doc in documents(&deploy_dir().join("rbac.yaml")) {
        let o = parse(&doc, "rbac.yaml");
        assert_eq!(o["metadata"]["namespace"], ns, "rbac.yaml: {}", o["kind"]);
        if o["kind"] == "RoleBinding" {
            assert_eq!(o["subjects"][0]["name"], pod["serviceAccountName"]);
            assert_eq!(o["subjects"][0]["namespace"], ns);
        }
    }
}

/// The scripts of every job are bash that parses, call no placeholder
/// (`...` as an argument) and none of the scripts Kubernetes does not have.
#[test]
fn job_scripts_parse_and_have_no_placeholders() {
    let mut n = 0;
    for p in job_configs() {
        for (name, job) in jobs_of(&p) {
            let containers = job["spec"]["containers"].as_array().expect("containers");
            for c in containers {
                let image = str_at(c, "/image", &name);
                assert!(
                    !image.is_empty() && !image.contains("..."),
                    "{name}: image {image}"
                );
                let argv: Vec<&str> = c["command"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .chain(c["args"].as_array().into_iter().flatten())
                    .map(|a| a.as_str().expect("string arguments"))
                    .collect();
                for a in &argv {
                    assert!(
                        !a.contains("run-e2e-against-local-apiserver"),
                        "{name}: {a}"
                    );
                }
                let Some(i) = argv.iter().position(|a| *a == "-c") else {
                    continue;
                };
                assert_eq!(argv[i - 1], "bash", "{name}: a bash script");
                let script = argv[i + 1];
                for word in script.split_whitespace() {
                    assert_ne!(word, "...", "{name}/{}: a `...` placeholder", c["name"]);
                }
                let out = Command::new("bash")
                    .args(["-n", "-c", script])
                    .output()
                    .expect("bash runs");
                assert!(
                    out.status.success(),
                    "{name}/{}: bash -n: {}",
                    c["name"],
                    String::from_utf8_lossy(&out.stderr)
                );
                n += 1;
            }
        }
    }
    assert!(n >= 5, "only {n} scripts checked");
}

// ---------------------------------------------------------------- cluster

struct Cluster {
    server: String,
    token: String,
    ca: String,
    tmp: tempfile::TempDir,
}

struct Response {
    code: u16,
    body: String,
}

impl Response {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("HTTP {}: not JSON ({e}): {}", self.code, self.body))
    }
}

fn env_or_fail(var: &str) -> String {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => v,
        _ => panic!("{var} is not set: {NEEDS_CLUSTER}"),
    }
}

impl Cluster {
    fn from_env() -> Cluster {
        let c = Cluster {
            server: env_or_fail("COVLENS_KUBE_SERVER"),
            token: env_or_fail("COVLENS_KUBE_TOKEN"),
            ca: env_or_fail("COVLENS_KUBE_CA_FILE"),
            tmp: tempfile::tempdir().expect("a temporary directory"),
        };
        let v = c.request("GET", "/version", None, None);
        assert_eq!(
            v.code, 200,
            "{}: /version: {} ({NEEDS_CLUSTER})",
            c.server, v.body
        );
        assert_eq!(v.json()["gitVersion"], "v1.36.3");
        c
    }

    fn request(
        &self,
        method: &str,
        path: &str,
        ctype: Option<&str>,
        body: Option<&[u8]>,
    ) -> Response {
        let out = self.tmp.path().join("response");
        let mut cmd = Command::new("curl");
        cmd.args([
            "-sS",
            "--max-time",
            "30",
            "--cacert",
            &self.ca,
            "-H",
            "@-",
            "-X",
            method,
        ])
        .arg("-o")
        .arg(&out)
        .args(["-w", "%{http_code}"]);
        if let Some(body) = body {
            let f = self.tmp.path().join("request");
            std::fs::write(&f, body).expect("request body written");
            cmd.arg("--data-binary").arg(format!("@{}", f.display()));
        }
        let mut headers = format!("Authorization: Bearer {}\n", self.token);
        if let Some(t) = ctype {
            headers.push_str(&format!("Content-Type: {t}\n"));
        }
        cmd.arg(format!("{}{path}", self.server))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("curl runs");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(headers.as_bytes())
            .expect("headers written to curl");
        let res = child.wait_with_output().expect("curl finishes");
        assert!(
            res.status.success(),
            "curl {method} {path}: {} ({NEEDS_CLUSTER})",
            String::from_utf8_lossy(&res.stderr)
        );
        let code = String::from_utf8_lossy(&res.stdout)
            .trim()
            .parse()
            .expect("an HTTP status");
        let body = std::fs::read_to_string(&out).unwrap_or_default();
        Response { code, body }
    }

    /// The REST path of a manifest's object, from the server's discovery.
    fn object_path(&self, obj: &Value, origin: &str) -> String {
        let gv = str_at(obj, "/apiVersion", origin);
        let kind = str_at(obj, "/kind", origin);
        let name = str_at(obj, "/metadata/name", origin);
        let base = if gv.contains('/') {
            format!("/apis/{gv}")
        } else {
            format!("/api/{gv}")
        };
        let d = self.request("GET", &base, None, None);
        assert_eq!(d.code, 200, "{origin}: discovery of {gv}: {}", d.body);
        let d = d.json();
        let r = d["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["kind"] == kind && !r["name"].as_str().unwrap().contains('/'))
            .unwrap_or_else(|| panic!("{origin}: the server has no {kind} in {gv}"));
        let plural = r["name"].as_str().unwrap();
        if r["namespaced"] == true {
            let ns = obj
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("default");
            format!("{base}/namespaces/{ns}/{plural}/{name}")
        } else {
            format!("{base}/{plural}/{name}")
        }
    }

    /// Server-side apply of one YAML document (sent as written: the server
    /// reads YAML as kubectl does), dry-run, strict field validation.
    fn dry_run_apply(&self, doc: &str, origin: &str) -> (String, Response) {
        let path = self.object_path(&parse(doc, origin), origin);
        let r = self.request(
            "PATCH",
            &format!("{path}?dryRun=All&fieldManager=covlens-deploy-test&fieldValidation=Strict&force=true"),
            Some("application/apply-patch+yaml"),
            Some(doc.as_bytes()),
        );
        (path, r)
    }
}

#[test]
#[ignore = "needs a cluster: scripts/kube-testenv.sh"]
fn every_manifest_passes_server_side_dry_run_with_strict_validation() {
    let k = Cluster::from_env();
    let mut applied = Vec::new();
    for file in manifests() {
        let origin = file.strip_prefix(repo()).unwrap().display().to_string();
        for (i, doc) in documents(&file).iter().enumerate() {
            let origin = format!("{origin}: document {}", i + 1);
            let (path, r) = k.dry_run_apply(doc, &origin);
            assert!(
                r.code == 200 || r.code == 201,
                "{origin}: {path}: HTTP {}: {}",
                r.code,
                r.body
            );
            let got = r.json();
            let want = parse(doc, &origin);
            assert_eq!(got["kind"], want["kind"], "{origin}");
            assert_eq!(
                got["metadata"]["name"], want["metadata"]["name"],
                "{origin}"
            );
            // A dry run creates nothing.
            let g = k.request("GET", &path, None, None);
            assert_eq!(
                g.code, 404,
                "{origin}: {path} exists after a dry run: {}",
                g.body
            );
            if want["kind"] == "Deployment" {
                assert_eq!(got["spec"]["replicas"], 2);
                // 0440 in the manifest is octal, as kubectl reads it.
                let vols = got["spec"]["template"]["spec"]["volumes"]
                    .as_array()
                    .unwrap();
                let token = vols.iter().find(|v| v["name"] == "github-token").unwrap();
                assert_eq!(token["secret"]["defaultMode"], 0o440);
            }
            applied.push(format!(
                "{}/{}",
                want["kind"].as_str().unwrap(),
                want["metadata"]["name"].as_str().unwrap()
            ));
        }
    }
    for kind in [
        "ServiceAccount/covlens-reporter",
        "Role/covlens-reporter",
        "RoleBinding/covlens-reporter",
        "ConfigMap/covlens-reporter-config",
        "Deployment/covlens-reporter",
        "Service/covlens-reporter",
        "PodDisruptionBudget/covlens-reporter",
        "Pod/kube-apiserver-coverage",
        "Pod/kubelet-text-coverage",
    ] {
        assert!(
            applied.iter().any(|a| a == kind),
            "{kind} not among {applied:?}"
        );
    }
    eprintln!("dry-run applied, strict: {}", applied.join(" "));
}

/// What Prow runs of each job is its `spec` as a Pod (plus its utilities):
/// every job's spec is a Pod the API server accepts, strictly.
#[test]
#[ignore = "needs a cluster: scripts/kube-testenv.sh"]
fn every_job_spec_is_a_valid_pod() {
    let k = Cluster::from_env();
    let mut n = 0;
    for file in job_configs() {
        for (name, job) in jobs_of(&file) {
            let pod = json!({
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "namespace": "default"},
                "spec": job["spec"],
            });
            let r = k.request(
                "POST",
                "/api/v1/namespaces/default/pods?dryRun=All&fieldValidation=Strict",
                Some("application/json"),
                Some(pod.to_string().as_bytes()),
            );
            assert_eq!(
                r.code,
                201,
                "{}: {name}: HTTP {}: {}",
                file.display(),
                r.code,
                r.body
            );
            n += 1;
        }
    }
    assert!(n >= 5, "only {n} jobs");
}

/// Strictness is real: the same manifests with a misspelt field are refused.
#[test]
#[ignore = "needs a cluster: scripts/kube-testenv.sh"]
fn a_misspelt_field_is_refused() {
    let k = Cluster::from_env();
    let cases = [
        (
            "deployment.yaml",
            deploy_dir().join("deployment.yaml"),
            "  replicas: 2\n",
            "  replicas: 2\n  replicass: 2\n",
            "replicass",
        ),
        (
            "rbac.yaml",
            deploy_dir().join("rbac.yaml"),
            "    verbs: [get, create, update]\n",
            "    verbs: [get, create, update]\n    verb: [delete]\n",
            "verb",
        ),
        (
            "e2e-pod.yaml",
            repo().join("collector/deploy/e2e-pod.yaml"),
            "      restartPolicy: Always\n",
            "      restartPolicy: Always\n      restartPolicyy: Always\n",
            "restartPolicyy",
        ),
    ];
    for (origin, file, from, to, field) in cases {
        let doc = documents(&file)
            .into_iter()
            .find(|d| d.contains(from))
            .unwrap_or_else(|| panic!("{origin}: no document with {from:?}"));
        let (path, ok) = k.dry_run_apply(&doc, origin);
        assert!(
            ok.code == 200 || ok.code == 201,
            "{origin}: {path}: {}",
            ok.body
        );
        let typo = doc.replacen(from, to, 1);
        let (_, r) = k.dry_run_apply(&typo, origin);
        assert!(
            !(200..300).contains(&r.code),
            "{origin}: a misspelt field ({field}) was accepted: {}",
            r.body
        );
        // (v1.36.3 answers such an apply with 500 "failed to create typed
        // patch object ... field not declared in schema".)
        let msg = r.json()["message"].as_str().unwrap_or_default().to_owned();
        assert!(
            msg.contains(&format!(".{field}: field not declared in schema")),
            "{origin}: refused for another reason: HTTP {}: {msg}",
            r.code
        );
    }
}

/// The Role, created for real in a namespace of its own, lets the
/// reporter's service account do what the reporter does (SubjectAccessReview,
/// the API server's RBAC authorizer) and nothing else asked here.
#[test]
#[ignore = "needs a cluster: scripts/kube-testenv.sh"]
fn the_role_grants_what_the_reporter_needs_and_no_more() {
    let k = Cluster::from_env();
    let ns = format!("covlens-deploy-{}", std::process::id());
    let r = k.request(
        "POST",
        "/api/v1/namespaces",
        Some("application/json"),
        Some(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
                .to_string()
                .as_bytes(),
        ),
    );
    assert_eq!(r.code, 201, "namespace {ns}: {}", r.body);
    let mut created = Vec::new();
    for file in ["serviceaccount.yaml", "rbac.yaml"] {
        for doc in documents(&deploy_dir().join(file)) {
            let doc = doc.replace("namespace: default", &format!("namespace: {ns}"));
            let path = k.object_path(&parse(&doc, file), file);
            let r = k.request(
                "PATCH",
                &format!(
                    "{path}?fieldManager=covlens-deploy-test&fieldValidation=Strict&force=true"
                ),
                Some("application/apply-patch+yaml"),
                Some(doc.as_bytes()),
            );
            assert!(r.code == 200 || r.code == 201, "{file}: {path}: {}", r.body);
            created.push(path);
        }
    }
    let user = format!("system:serviceaccount:{ns}:covlens-reporter");
    let allowed = |group: &str, resource: &str, verb: &str| -> bool {
        let review = json!({
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {
                "user": user,
                "groups": ["system:serviceaccounts", format!("system:serviceaccounts:{ns}"), "system:authenticated"],
                "resourceAttributes": {"namespace": ns, "group": group, "resource": resource, "verb": verb}
            }
        });
        let r = k.request(
            "POST",
            "/apis/authorization.k8s.io/v1/subjectaccessreviews",
            Some("application/json"),
            Some(review.to_string().as_bytes()),
        );
        assert_eq!(r.code, 201, "SubjectAccessReview: {}", r.body);
        r.json()["status"]["allowed"] == true
    };
    // The authorizer sees new RBAC objects through its informers: wait.
    let t0 = Instant::now();
    while !allowed("prow.k8s.io", "prowjobs", "watch") {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "the Role never took effect"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    for verb in ["get", "list", "watch", "patch"] {
        assert!(allowed("prow.k8s.io", "prowjobs", verb), "prowjobs {verb}");
    }
    for verb in ["get", "create", "update"] {
        assert!(
            allowed("coordination.k8s.io", "leases", verb),
            "leases {verb}"
        );
    }
    for (group, resource, verb) in [
        ("prow.k8s.io", "prowjobs", "create"),
        ("prow.k8s.io", "prowjobs", "delete"),
        ("coordination.k8s.io", "leases", "delete"),
        ("", "secrets", "get"),
        ("", "pods", "list"),
    ] {
        assert!(
            !allowed(group, resource, verb),
            "{resource} {verb} must not be allowed"
        );
    }
    for path in created.iter().rev() {
        let r = k.request("DELETE", path, None, None);
        assert_eq!(r.code, 200, "DELETE {path}: {}", r.body);
    }
    // (Without a controller manager the namespace stays Terminating; the
    // test cluster is thrown away with it.)
    k.request("DELETE", &format!("/api/v1/namespaces/{ns}"), None, None);
}

// ---------------------------------------------------------------- checkconfig

fn checkconfig_binary() -> PathBuf {
    let out = Command::new(repo().join("scripts/kube-testenv.sh"))
        .arg("paths")
        .output()
        .expect("scripts/kube-testenv.sh runs");
    assert!(
        out.status.success(),
        "kube-testenv.sh paths: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let paths = String::from_utf8(out.stdout).unwrap();
    let bin = PathBuf::from(
        paths
            .lines()
            .find_map(|l| l.strip_prefix("checkconfig="))
            .expect("kube-testenv.sh paths names checkconfig"),
    );
    assert!(
        bin.is_file(),
        "{} is missing: run scripts/kube-testenv.sh build checkconfig",
        bin.display()
    );
    bin
}

/// Prow's checkconfig, strict, with the unknown-field checks its default
/// warnings leave out, against the minimal Prow config of the test env.
fn checkconfig(bin: &Path, job_config: &Path) -> (bool, String) {
    let out = Command::new(bin)
        .args([
            "--strict",
            "--include-default-warnings",
            "--warnings=unknown-fields-all",
            "--warnings=valid-decoration-config",
        ])
        .arg(format!(
            "--config-path={}",
            repo()
                .join("scripts/kube-testenv-prow-config.yaml")
                .display()
        ))
        .arg(format!("--job-config-path={}", job_config.display()))
        .output()
        .expect("checkconfig runs");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[test]
#[ignore = "needs Prow's checkconfig: scripts/kube-testenv.sh build checkconfig"]
fn every_job_config_passes_checkconfig_strict() {
    let bin = checkconfig_binary();
    for file in job_configs() {
        let (ok, out) = checkconfig(&bin, &file);
        assert!(
            ok,
            "checkconfig --strict refuses {}:\n{out}",
            file.display()
        );
        assert!(
            out.contains("checkconfig passes without any error"),
            "{out}"
        );
    }
    // All of deploy/jobs at once too (duplicate names across files).
    let (ok, out) = checkconfig(&bin, &deploy_dir().join("jobs"));
    assert!(
        ok,
        "checkconfig --strict refuses prow-integration/deploy/jobs:\n{out}"
    );
}

#[test]
#[ignore = "needs Prow's checkconfig: scripts/kube-testenv.sh build checkconfig"]
fn checkconfig_refuses_a_job_with_a_misspelt_field() {
    let bin = checkconfig_binary();
    let tmp = tempfile::tempdir().unwrap();
    for file in job_configs() {
        let text = read(&file);
        let (line, indent) = text
            .lines()
            .find_map(|l| {
                l.strip_suffix("decorate: true")
                    .filter(|i| i.trim().is_empty())
                    .map(|i| (l, i))
            })
            .unwrap_or_else(|| panic!("{}: no `decorate: true`", file.display()));
        let typo = text.replacen(
            &format!("{line}\n"),
            &format!("{line}\n{indent}decorat: true\n"),
            1,
        );
        let bad = tmp.path().join(file.file_name().unwrap());
        std::fs::write(&bad, typo).unwrap();
        let (ok, out) = checkconfig(&bin, &bad);
        assert!(
            !ok,
            "checkconfig --strict accepts {} with `decorat`",
            file.display()
        );
        assert!(
            out.contains(r#"unknown field \"decorat\""#),
            "refused for another reason:\n{out}"
        );
    }
}
