//! The demo organization's review work: people with several sessions (so identities have a
//! history) and a queue of cases in each state of CONTRACT §8.2, created through the same use
//! cases as API calls, once (skipped when the `seed_person_*` sessions exist).

use serde_json::json;
use std::sync::Arc;
use verifa_app::api_keys::Caller;
use verifa_app::cases::{CaseQuery, DecisionRequest, Escalation};
use verifa_app::sessions::NewSession;
use verifa_domain::case::{CasePatch, Decision, Priority};
use verifa_domain::pagination::PageRequest;
use verifa_http::Services;
use verifa_ports::sessions::SessionFilter;

/// What was seeded.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Seeded {
    /// Sessions created.
    pub sessions: usize,
    /// Cases they opened.
    pub cases: usize,
}

/// People and the outcomes of their sessions, oldest first; a `require-review` opens a case.
const PEOPLE: [(&str, &[&str]); 6] = [
    (
        "seed_person_amara",
        &["decline", "approve", "require-review"],
    ),
    ("seed_person_bruno", &["approve", "require-review"]),
    ("seed_person_chen", &["decline", "require-review"]),
    (
        "seed_person_dalia",
        &["approve", "approve", "require-review"],
    ),
    ("seed_person_emil", &["require-review"]),
    ("seed_person_farah", &["decline", "require-review"]),
];

/// Seeds the people and the queue; `reviewers` are the ids of two active reviewers.
pub async fn seed_review_queue(
    services: &Arc<Services>,
    sandbox: &Caller,
    reviewers: [&str; 2],
) -> anyhow::Result<Seeded> {
    if already_seeded(services, sandbox).await? {
        return Ok(Seeded::default());
    }
    let err = |e: verifa_app::AppError| anyhow::anyhow!("{e:?}");
    let mut seeded = Seeded::default();
    let mut cases = Vec::new();
    for (person, outcomes) in PEOPLE {
        for action in outcomes {
            let new = NewSession {
                external_ref: Some(person.into()),
                metadata: Some(serde_json::Map::from_iter([(
                    "seeded".to_owned(),
                    json!(true),
                )])),
                ..Default::default()
            };
            let id = services
                .sessions
                .create(sandbox, new)
                .await
                .map_err(err)?
                .session
                .id;
            services
                .sessions
                .simulate(sandbox, &id, action)
                .await
                .map_err(err)?;
            seeded.sessions += 1;
            if *action == "require-review" {
                let query = CaseQuery {
                    q: Some(id),
                    ..Default::default()
                };
                let one = PageRequest {
                    limit: 1,
                    offset: 0,
                };
                let page = services
                    .cases
                    .list(sandbox, query, one)
                    .await
                    .map_err(err)?;
                cases.extend(page.items);
            }
        }
    }
    seeded.cases = cases.len();
    let [ravi, rosa] = reviewers;
    let c = &services.cases;
    let case = |i: usize| cases.get(i).map(|c| c.id.clone()).unwrap_or_default();
    // amara: urgent and unassigned, first in the queue.
    let urgent = CasePatch {
        priority: Some(Priority::Urgent),
        ..Default::default()
    };
    c.edit(sandbox, &case(0), &urgent).await.map_err(err)?;
    // bruno: high priority, claimed by Ravi.
    let high = CasePatch {
        priority: Some(Priority::High),
        ..Default::default()
    };
    c.edit(sandbox, &case(1), &high).await.map_err(err)?;
    c.claim(sandbox, &case(1), ravi).await.map_err(err)?;
    // chen: escalated by Ravi to Rosa.
    c.claim(sandbox, &case(2), ravi).await.map_err(err)?;
    let escalation = Escalation {
        reason: "Possible PEP match; needs a second opinion.".into(),
        escalated_to: Some(rosa.into()),
        notes: None,
        reviewer_id: Some(ravi.into()),
    };
    c.escalate(sandbox, &case(2), escalation)
        .await
        .map_err(err)?;
    // dalia: dual review, recommended for approval by Ravi, waiting for Rosa.
    let dual = CasePatch {
        requires_dual_review: Some(true),
        ..Default::default()
    };
    c.edit(sandbox, &case(3), &dual).await.map_err(err)?;
    let decision = |reviewer: &str, decision| DecisionRequest {
        reviewer_id: reviewer.into(),
        decision,
        notes: Some("Document and selfie match.".into()),
        rejection_reason: None,
    };
    c.decide(sandbox, &case(3), decision(ravi, Decision::Approved))
        .await
        .map_err(err)?;
    // emil: open with normal priority. farah: rejected by Rosa (history in the list).
    c.decide(sandbox, &case(5), decision(rosa, Decision::Rejected))
        .await
        .map_err(err)?;
    Ok(seeded)
}

async fn already_seeded(services: &Arc<Services>, sandbox: &Caller) -> anyhow::Result<bool> {
    let filter = SessionFilter {
        external_ref: Some(PEOPLE[0].0.into()),
        ..Default::default()
    };
    let page = PageRequest {
        limit: 1,
        offset: 0,
    };
    let found = services
        .sessions
        .list(sandbox, filter, page)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    Ok(found.total > 0)
}
