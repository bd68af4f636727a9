//! The README's first command: `posbon demo` plays the whole story and leaves nothing behind.

mod common;

use common::*;

#[test]
fn the_demo_plays_the_whole_story_and_cleans_up() {
    let temp = tempfile::tempdir().unwrap();
    let out = posbon()
        .args(["demo", "--insecure-fast-kdf"])
        .env("TMPDIR", temp.path())
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert!(
        text.contains("the passphrase no longer opens the vault"),
        "{text}"
    );
    for step in ["tier1", "tier2", "release"] {
        assert!(
            text.lines()
                .any(|l| l.contains(&format!(" {step} ")) && l.contains("signature: GENUINE")),
            "{step}: {text}"
        );
    }
    assert!(!text.contains("NOT GENUINE"), "{text}");
    assert!(
        text.contains("bundle \"Case 12-2026\", sealed for Dilnoza"),
        "{text}"
    );
    assert!(text.contains("files: power-of-attorney.pdf"), "{text}");
    assert_eq!(
        std::fs::read_dir(temp.path()).unwrap().count(),
        0,
        "the demo removes everything it made"
    );
}
