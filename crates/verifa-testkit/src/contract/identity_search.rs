//! [`IdentityStore::search`](verifa_ports::identities::IdentityStore::search): lookup hashes are
//! written with a result and replaced or kept as the write says; every hash of a search must sit
//! on one result; a hash finds the identity its session belongs to now (after a merge, the
//! primary); direct filters combine with AND; searches never cross tenants.

use super::Stores;
use super::fixtures::*;
use super::identities::{completing, processing_session};
use verifa_domain::identity::merge;
use verifa_domain::identity::{Identity, IdentityStatus};
use verifa_domain::session::SessionStatus;
use verifa_domain::tenancy::Tenant;
use verifa_domain::workflow::Outcome;
use verifa_ports::identities::IdentitySearch;
use verifa_ports::sessions::ResultWrite;

fn hashes(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| format!("{n:0>64}")).collect()
}

/// Completes a new session of `person` whose result carries `lookups`.
async fn complete_with(
    stores: &Stores,
    tenant: &Tenant,
    session_id: &str,
    person: &str,
    outcome: Outcome,
    seconds: i64,
    lookups: &[&str],
) {
    let s = processing_session(stores, tenant, session_id, person).await;
    let mut change = completing(&s, outcome, at(seconds));
    if let ResultWrite::Put(result) = &mut change.result {
        result.lookups = Some(hashes(lookups));
    }
    stores.sessions.apply(&change).await.unwrap();
}

async fn refs(stores: &Stores, tenant: &Tenant, search: IdentitySearch) -> Vec<String> {
    stores
        .identities
        .search(tenant, &search, all())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|i: Identity| i.external_ref.unwrap_or_default())
        .collect()
}

fn by_hashes(names: &[&str]) -> IdentitySearch {
    IdentitySearch {
        lookups: hashes(names),
        ..IdentitySearch::default()
    }
}

/// Lookups land with results; AND means one result; direct filters and tenants narrow.
pub async fn identity_search_matches_hashes_of_one_result(stores: Stores) {
    let (live, sandbox) = organization(&stores, "org_idn_search").await;
    let t = &live;
    complete_with(
        &stores,
        t,
        "ses_isr_a1",
        "alice",
        Outcome::Approved,
        10,
        &["a_mail", "a_doc"],
    )
    .await;
    complete_with(
        &stores,
        t,
        "ses_isr_b1",
        "bob",
        Outcome::Rejected,
        20,
        &["b_mail", "city"],
    )
    .await;
    complete_with(
        &stores,
        t,
        "ses_isr_a2",
        "alice",
        Outcome::Approved,
        30,
        &["a_mail2", "city"],
    )
    .await;

    assert_eq!(refs(&stores, t, by_hashes(&["a_mail"])).await, ["alice"]);
    assert_eq!(
        refs(&stores, t, by_hashes(&["city"])).await,
        ["bob", "alice"],
        "newest identity first"
    );
    assert_eq!(
        refs(&stores, t, by_hashes(&["a_mail2", "city"])).await,
        ["alice"]
    );
    assert!(
        refs(&stores, t, by_hashes(&["a_mail", "city"]))
            .await
            .is_empty(),
        "the hashes of a search must sit on one result, not on two sessions"
    );
    assert!(refs(&stores, t, by_hashes(&["nobody"])).await.is_empty());
    assert!(
        refs(&stores, &sandbox, by_hashes(&["a_mail"]))
            .await
            .is_empty(),
        "another environment sees nothing"
    );

    let failed_in_city = IdentitySearch {
        status: Some(IdentityStatus::Failed),
        ..by_hashes(&["city"])
    };
    assert_eq!(refs(&stores, t, failed_in_city).await, ["bob"]);
    let exact = IdentitySearch {
        external_ref: Some("alice".into()),
        ..IdentitySearch::default()
    };
    assert_eq!(refs(&stores, t, exact).await, ["alice"]);
    let prefix_is_not_exact = IdentitySearch {
        external_ref: Some("ali".into()),
        ..IdentitySearch::default()
    };
    assert!(refs(&stores, t, prefix_is_not_exact).await.is_empty());

    let page = stores
        .identities
        .search(
            t,
            &by_hashes(&["city"]),
            verifa_domain::pagination::PageRequest {
                limit: 1,
                offset: 1,
            },
        )
        .await
        .unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].external_ref.as_deref(), Some("alice"));
}

/// `lookups: None` keeps the stored hashes, `Some` replaces them, a cleared result drops them;
/// a merge moves what the secondary's sessions match to the primary.
pub async fn identity_search_follows_result_writes_and_merges(stores: Stores) {
    let (live, _) = organization(&stores, "org_idn_search_w").await;
    let t = &live;
    complete_with(
        &stores,
        t,
        "ses_isw_p",
        "primary",
        Outcome::Approved,
        10,
        &["p_mail"],
    )
    .await;
    complete_with(
        &stores,
        t,
        "ses_isw_s",
        "secondary",
        Outcome::Approved,
        20,
        &["s_mail"],
    )
    .await;

    // A rewrite of the result that does not touch its data (a case decision) keeps the hashes.
    let stored = stores.sessions.get(t, "ses_isw_p").await.unwrap();
    let result = stores
        .sessions
        .result(t, "ses_isw_p")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(result.lookups, None, "hashes are written, never read back");
    let rewrite = change(&stored, SessionStatus::Completed, at(40), Vec::new()).with_result(result);
    stores.sessions.apply(&rewrite).await.unwrap();
    assert_eq!(refs(&stores, t, by_hashes(&["p_mail"])).await, ["primary"]);

    // A corrected result replaces them.
    let stored = stores.sessions.get(t, "ses_isw_p").await.unwrap();
    let mut result = stores
        .sessions
        .result(t, "ses_isw_p")
        .await
        .unwrap()
        .unwrap();
    result.lookups = Some(hashes(&["p_mail_new"]));
    let correct = change(&stored, SessionStatus::Completed, at(50), Vec::new()).with_result(result);
    stores.sessions.apply(&correct).await.unwrap();
    assert!(refs(&stores, t, by_hashes(&["p_mail"])).await.is_empty());
    assert_eq!(
        refs(&stores, t, by_hashes(&["p_mail_new"])).await,
        ["primary"]
    );

    let p = stores
        .identities
        .find_by_ref(t, "primary")
        .await
        .unwrap()
        .unwrap();
    let s = stores
        .identities
        .find_by_ref(t, "secondary")
        .await
        .unwrap()
        .unwrap();
    let plan = merge::plan(&p, std::slice::from_ref(&s), at(60)).unwrap();
    stores.identities.merge(&plan, &[], &[]).await.unwrap();
    assert_eq!(
        refs(&stores, t, by_hashes(&["s_mail"])).await,
        ["primary"],
        "the merged person's data now finds the primary"
    );

    // A result cleared (a session resumed for another attempt) takes its hashes with it.
    let stored = stores.sessions.get(t, "ses_isw_s").await.unwrap();
    let mut clear = change(&stored, SessionStatus::Completed, at(70), Vec::new());
    clear.result = ResultWrite::Clear;
    stores.sessions.apply(&clear).await.unwrap();
    assert!(refs(&stores, t, by_hashes(&["s_mail"])).await.is_empty());
}
