//! Use-case tests of organization users on the fakes: validation names every field, writes
//! need a live key, one-time passwords verify and are replaced, the last admin stays, and the
//! operator path (chosen password, reset by email) follows the password rules.

mod support;

use support::World;
use verifa_app::AppError;
use verifa_app::org_users::{NewOrgUser, OrgUserChanges, OrgUserQuery};
use verifa_crypto::passwords::verify_password;
use verifa_domain::org_user::OrgRole;
use verifa_domain::pagination::PageRequest;

fn all() -> PageRequest {
    PageRequest {
        limit: 100,
        offset: 0,
    }
}

fn new_user(email: &str, role: &str) -> NewOrgUser {
    NewOrgUser {
        email: Some(email.into()),
        name: Some(format!("User {email}")),
        role: Some(role.into()),
    }
}

fn fields(e: AppError) -> Vec<String> {
    match e {
        AppError::Validation(errors) => {
            let mut f: Vec<String> = errors.into_iter().map(|e| e.field).collect();
            f.sort();
            f
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[tokio::test]
async fn every_invalid_field_is_named_at_once() {
    let w = World::new().await;
    let users = &w.services.org_users;
    let err = users
        .create(&w.live, NewOrgUser::default())
        .await
        .unwrap_err();
    assert_eq!(fields(err), ["email", "name", "role"]);
    let err = users
        .create(
            &w.live,
            NewOrgUser {
                email: Some("ana@@example.com".into()),
                name: Some("x".repeat(201)),
                role: Some("root".into()),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(fields(err), ["email", "name", "role"]);
    let err = users
        .create_in(
            &w.live.key.org_id,
            new_user("a@example.com", "admin"),
            Some("short".into()),
        )
        .await
        .unwrap_err();
    assert_eq!(fields(err), ["password"]);
    let listed = users
        .list(&w.live, OrgUserQuery::default(), all())
        .await
        .unwrap();
    assert_eq!(listed.total, 0, "nothing was stored");
}

#[tokio::test]
async fn writes_need_a_live_key_and_reads_stay_in_the_organization() {
    let w = World::new().await;
    let users = &w.services.org_users;
    let err = users
        .create(&w.sandbox, new_user("s@example.com", "viewer"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            AppError::Forbidden {
                code: "live_only",
                ..
            }
        ),
        "{err:?}"
    );
    let made = users
        .create(&w.live, new_user("mine@example.com", "admin"))
        .await
        .unwrap();
    // The sandbox key of the same organization reads it; another organization does not.
    assert_eq!(
        users.get(&w.sandbox, &made.user.id).await.unwrap().id,
        made.user.id
    );
    let err = users.get(&w.stranger, &made.user.id).await.unwrap_err();
    assert!(matches!(err, AppError::NotFound(_)), "{err:?}");
    for write in [
        users
            .deactivate(&w.sandbox, &made.user.id)
            .await
            .map(|_| ()),
        users
            .reset_password(&w.sandbox, &made.user.id)
            .await
            .map(|_| ()),
        users
            .update(&w.sandbox, &made.user.id, OrgUserChanges::default())
            .await
            .map(|_| ()),
    ] {
        assert!(matches!(
            write,
            Err(AppError::Forbidden {
                code: "live_only",
                ..
            })
        ));
    }
}

#[tokio::test]
async fn passwords_are_one_time_hashed_and_replaced_by_a_reset() {
    let w = World::new().await;
    let users = &w.services.org_users;
    let made = users
        .create(&w.live, new_user("ana@example.com", "reviewer"))
        .await
        .unwrap();
    assert!(made.user.password_is_temporary);
    assert!(verify_password(
        &made.user.password_hash,
        &made.one_time_password
    ));
    assert!(!made.user.password_hash.contains(&made.one_time_password));

    let reset = users.reset_password(&w.live, &made.user.id).await.unwrap();
    assert_ne!(reset.one_time_password, made.one_time_password);
    assert!(verify_password(
        &reset.user.password_hash,
        &reset.one_time_password
    ));
    assert!(!verify_password(
        &reset.user.password_hash,
        &made.one_time_password
    ));

    // The operator sets a chosen password by email (any case); it is not temporary.
    let chosen = users
        .reset_password_by_email("ANA@example.com", Some("a long enough passphrase".into()))
        .await
        .unwrap();
    assert!(!chosen.user.password_is_temporary);
    assert!(verify_password(
        &chosen.user.password_hash,
        "a long enough passphrase"
    ));
    let err = users
        .reset_password_by_email("nobody@example.com", None)
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::NotFound(_)), "{err:?}");
}

#[tokio::test]
async fn the_last_admin_stays_and_emails_stay_unique() {
    let w = World::new().await;
    let users = &w.services.org_users;
    let a = users
        .create(&w.live, new_user("a@example.com", "admin"))
        .await
        .unwrap()
        .user;
    let b = users
        .create(&w.live, new_user("b@example.com", "viewer"))
        .await
        .unwrap()
        .user;
    let demote = OrgUserChanges {
        role: Some("viewer".into()),
        ..OrgUserChanges::default()
    };
    let err = users
        .update(&w.live, &a.id, demote.clone())
        .await
        .unwrap_err();
    assert!(
        matches!(err, AppError::Conflict(ref m) if m.contains("last active admin")),
        "{err:?}"
    );
    let err = users.deactivate(&w.live, &a.id).await.unwrap_err();
    assert!(matches!(err, AppError::Conflict(_)), "{err:?}");

    // Taking another user's email, in any case, is a conflict; keeping one's own is fine.
    let steal = OrgUserChanges {
        email: Some("A@EXAMPLE.COM".into()),
        ..OrgUserChanges::default()
    };
    let err = users.update(&w.live, &b.id, steal).await.unwrap_err();
    assert!(
        matches!(err, AppError::Conflict(ref m) if m.contains("email")),
        "{err:?}"
    );
    let recase = OrgUserChanges {
        email: Some("B@example.com".into()),
        role: Some("admin".into()),
        ..OrgUserChanges::default()
    };
    let b = users.update(&w.live, &b.id, recase).await.unwrap();
    assert_eq!(
        (b.email.as_str(), b.role),
        ("B@example.com", OrgRole::Admin)
    );
    // Now `a` may step down, and deactivating twice changes nothing the second time.
    assert_eq!(
        users.update(&w.live, &a.id, demote).await.unwrap().role,
        OrgRole::Viewer
    );
    let once = users.deactivate(&w.live, &a.id).await.unwrap();
    let twice = users.deactivate(&w.live, &a.id).await.unwrap();
    assert!(!once.is_active);
    assert_eq!(once, twice);
}

#[tokio::test]
async fn concurrent_patches_of_different_fields_both_land() {
    let w = World::new().await;
    let users = &w.services.org_users;
    let u = users
        .create(&w.live, new_user("c@example.com", "viewer"))
        .await
        .unwrap()
        .user;
    let name = OrgUserChanges {
        name: Some("Renamed".into()),
        ..OrgUserChanges::default()
    };
    let role = OrgUserChanges {
        role: Some("reviewer".into()),
        ..OrgUserChanges::default()
    };
    let (x, y) = tokio::join!(
        users.update(&w.live, &u.id, name),
        users.update(&w.live, &u.id, role)
    );
    x.unwrap();
    y.unwrap();
    let stored = users.get(&w.live, &u.id).await.unwrap();
    assert_eq!(
        (stored.name.as_str(), stored.role),
        ("Renamed", OrgRole::Reviewer)
    );
}
