//! `Objects` over `file://` URLs (object_store's local backend): what a URL
//! lists, the bytes read back, and every limit and refusal, with small
//! limits so that each is reached.

use std::io::Read;
use std::path::Path;

use covlens_objects::{Error, Objects, ObjectsOptions};

fn put(root: &Path, key: &str, bytes: &[u8]) {
    let p = root.join(key);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

fn base(root: &Path) -> String {
    format!("file://{}/", root.display())
}

fn objects(max_objects: usize, max_dir_bytes: u64) -> Objects {
    Objects::new(ObjectsOptions {
        max_objects,
        max_dir_bytes,
        ..ObjectsOptions::default()
    })
}

#[test]
fn lists_sorted_and_reads_each_object_back() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    put(r, "logs/1/artifacts/b.cov", b"mode: set\nb");
    put(r, "logs/1/artifacts/a.cov", b"mode: set\na");
    put(r, "logs/1/artifacts/deep/c.cov", b"mode: set\nc");
    put(r, "logs/1/artifacts/notes.txt", b"not a profile");
    put(r, "logs/1/artifacts/cov/covmeta.00ff", b"meta");
    put(r, "logs/1/artifacts/cov/covcounters.00ff.1.2", b"counters");
    let b = base(r);
    let o = objects(100, 1 << 20);

    let names = |url: &str| -> Vec<(String, u64, bool)> {
        o.list(url)
            .unwrap()
            .into_iter()
            .map(|x| (x.name, x.size, x.covdata))
            .collect()
    };
    // `*` stays within a segment; `**` spans them.
    assert_eq!(
        names(&format!("{b}logs/1/artifacts/*.cov")),
        [
            (format!("{b}logs/1/artifacts/a.cov"), 11, false),
            (format!("{b}logs/1/artifacts/b.cov"), 11, false),
        ]
    );
    assert_eq!(
        names(&format!("{b}logs/1/artifacts/**/*.cov")).len(),
        3,
        "a, b and deep/c"
    );
    // A prefix: every object, Go's binary files as one directory.
    let all = names(&format!("{b}logs/1/artifacts/"));
    assert_eq!(all.len(), 5, "{all:?}");
    assert!(all.contains(&(format!("{b}logs/1/artifacts/cov/"), 12, true)));

    // Each object's bytes, exactly; reading ahead does not mix them up.
    let listed: Vec<String> = all.iter().filter(|x| !x.2).map(|x| x.0.clone()).collect();
    for (k, name) in listed.iter().enumerate() {
        let mut got = Vec::new();
        o.open_object(name, &listed[k + 1..])
            .unwrap()
            .read_to_end(&mut got)
            .unwrap();
        let key = name.strip_prefix(&b).unwrap();
        assert_eq!(got, std::fs::read(r.join(key)).unwrap(), "{name}");
    }
    let files = o.read_dir(&format!("{b}logs/1/artifacts/cov/")).unwrap();
    assert_eq!(files.len(), 2);
}

#[test]
fn limits_and_refusals_name_the_url() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    for k in 0..5 {
        put(r, &format!("many/p{k}.cov"), b"mode: set\n");
    }
    put(r, "dir/covmeta.00ff", &[0; 600]);
    put(r, "dir/covcounters.00ff.1.2", &[0; 600]);
    let b = base(r);
    let o = objects(3, 1000);

    let err = |url: &str| o.list(url).err().unwrap_or_else(|| panic!("{url} listed"));
    let e = err(&format!("{b}many/"));
    assert!(matches!(e, Error::TooMany { max: 3, .. }), "{e}");
    assert!(e.to_string().starts_with(&format!("{b}many/: more than 3")));
    // As many as the limit is fine.
    for k in 0..3 {
        put(r, &format!("three/p{k}.cov"), b"");
    }
    assert_eq!(o.list(&format!("{b}three/")).unwrap().len(), 3);

    let e = err(&format!("{b}dir/"));
    assert!(
        matches!(
            e,
            Error::DirTooLarge {
                size: 1200,
                max: 1000,
                ..
            }
        ),
        "{e}"
    );

    let e = err(&format!("{b}many/p9.cov"));
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
    assert!(e.to_string().contains("end the URL with '/'"), "{e}");
    let e = err(&format!("{b}many/*.out"));
    assert_eq!(e.to_string(), format!("{b}many/*.out: no such object"));

    // covdata's -i takes directories, not text profiles.
    let e = objects(10, 1000)
        .covdirs(&[format!("{b}many/p1.cov")])
        .unwrap_err();
    assert!(matches!(e, Error::NotCovdata { .. }), "{e}");

    // Only what this reader listed is read.
    let fresh = objects(10, 1000);
    assert!(matches!(
        fresh.open_object(&format!("{b}many/p1.cov"), &[]),
        Err(Error::Unlisted { .. })
    ));
    assert!(matches!(
        fresh.read_dir(&format!("{b}dir/")),
        Err(Error::Unlisted { .. })
    ));
}

#[test]
fn a_directory_that_grows_after_listing_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    put(r, "dir/covmeta.00ff", &[0; 400]);
    put(r, "dir/covcounters.00ff.1.2", &[0; 400]);
    let b = base(r);
    let o = objects(10, 1000);
    o.list(&format!("{b}dir/")).unwrap();
    // A writer adds to it between listing and reading.
    put(r, "dir/covcounters.00ff.1.2", &[0; 900]);
    let e = o.read_dir(&format!("{b}dir/")).unwrap_err();
    assert!(e.to_string().contains("grew past the limit"), "{e}");
}
