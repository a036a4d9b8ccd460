//! Master-key rotation on fakes: data keys under the retired key are re-wrapped under the new
//! one without touching the data, in batches, resumably; unreadable keys are reported, not
//! skipped silently.

mod support;

use support::*;
use verifa_app::crypto::Cipher;
use verifa_app::master_key::{MasterKeyRotation, RotationReport};
use verifa_app::sessions::NewSession;
use verifa_ports::sessions::{DataKeyStore, SessionStore};
use verifa_ports::storage::DocumentStorage;

#[tokio::test]
async fn rotation_rewraps_every_key_and_reports_the_unreadable() {
    let w = World::new().await;
    let old = Cipher::from_key(&[7; 32]).unwrap();
    let new = Cipher::from_key(&[9; 32]).unwrap();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let s = w
            .services
            .sessions
            .create(&w.live, NewSession::default())
            .await
            .unwrap();
        ids.push(s.session.id);
    }
    let doc = w
        .services
        .sessions
        .upload_document(&w.live, &ids[0], "id_front", jpeg(b"passport"), None)
        .await
        .unwrap();
    let tenant = w.live.tenant();
    let wrapped_of = |id: String| {
        let store = w.store.clone();
        let tenant = tenant.clone();
        async move { store.get(&tenant, &id).await.unwrap().data_key.unwrap() }
    };
    // A tampered key: neither master key opens it.
    let third = wrapped_of(ids[2].clone()).await;
    let forged = format!("{}:v1.AAAAAAAAAAAAAAAA.AAAA", old.key_id());
    assert!(
        w.store
            .replace_data_key(&ids[2], &third, &forged)
            .await
            .unwrap()
    );
    let sealed_blob = w.blobs.get(&doc.storage_key).await.unwrap();

    let keyring = new.clone().with_retired(vec![old.clone()]);
    let rotation = MasterKeyRotation::new(&w.ports, keyring.clone());
    let report = rotation.rotate(2).await.unwrap();
    assert_eq!(
        report,
        RotationReport {
            rewrapped: 2,
            unreadable: 1,
            unreadable_sessions: vec![ids[2].clone()],
            remaining: 1,
        }
    );
    let first = wrapped_of(ids[0].clone()).await;
    assert!(new.wraps_currently(&first));
    // The new master key alone opens the session's data: the blob was never rewritten.
    let data_key = new.open_data_key(&first, &ids[0]).unwrap();
    assert!(data_key.open(&sealed_blob, doc.id.as_bytes()).is_ok());
    assert_eq!(w.blobs.get(&doc.storage_key).await.unwrap(), sealed_blob);
    assert!(old.open_data_key(&first, &ids[0]).is_err());

    // Resumable and idempotent: a second run finds only the unreadable key.
    let again = rotation.rotate(500).await.unwrap();
    assert_eq!(
        (again.rewrapped, again.unreadable, again.remaining),
        (0, 1, 1)
    );
    // A rotation without the retired key configured reads nothing it could not before.
    let unconfigured = MasterKeyRotation::new(&w.ports, Cipher::from_key(&[11; 32]).unwrap());
    let report = unconfigured.rotate(500).await.unwrap();
    assert_eq!((report.rewrapped, report.unreadable), (0, 3));
}
