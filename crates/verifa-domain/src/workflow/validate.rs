//! Structural and semantic validation of a graph against the policy catalogue (CONTRACT §2.1
//! "Validation"). Every problem is reported at once, each with its [`Rule`] and dotted path;
//! findings that cannot break a run (e.g. a literal whose type can never match) are warnings.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::Value;

use super::catalog::PolicyCatalog;
use super::condition::is_valid_field_path;
use super::issue::{Issue, Rule, Warning};
use super::model::{Graph, Node, NodeKind, Operator};
use super::partial::{BrokenNode, PartialGraph};
use super::schema;
use std::collections::BTreeMap;

/// Maximum number of nodes in a graph (CONTRACT §1.8).
pub const MAX_NODES: usize = 200;

/// Highest allowed `max_retries`.
pub const MAX_RETRIES: u8 = 4;

/// Result of [`validate`]: fatal issues and non-fatal warnings.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Validation {
    /// Problems that make the graph unusable.
    pub issues: Vec<Issue>,
    /// Non-fatal findings.
    pub warnings: Vec<Warning>,
}

impl Validation {
    /// True when there are no issues (warnings allowed).
    pub fn is_valid(&self) -> bool {
        self.issues.is_empty()
    }
}

/// True when `id` matches `^[a-z0-9_\-]{1,64}$`.
pub fn is_valid_node_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

fn node_path(id: &str) -> String {
    format!("graph.nodes.{id}")
}

/// Validates a graph: ids, node count, start/entry, references, reachability, cycles, dead ends,
/// policies and their configs, retries, conditions.
pub fn validate(graph: &Graph, catalog: &PolicyCatalog) -> Validation {
    check(
        &Topology::new(Some(&graph.entry), &graph.nodes, None),
        catalog,
    )
}

/// Validates what parsed of a graph the parser found problems in: the same rules, with each
/// broken node standing in by its type and salvaged references (its own fields are the
/// parser's to report, and nothing is concluded from what it failed to say: a path through it
/// counts as ending).
pub fn validate_partial(partial: &PartialGraph, catalog: &PolicyCatalog) -> Validation {
    check(
        &Topology::new(
            partial.entry.as_deref(),
            &partial.nodes,
            Some(&partial.broken),
        ),
        catalog,
    )
}

fn check(t: &Topology<'_>, catalog: &PolicyCatalog) -> Validation {
    let mut v = Validation::default();
    if t.ids.len() > MAX_NODES {
        v.issues.push(Issue::new(
            Rule::TooManyNodes,
            "graph.nodes",
            format!("has {} nodes; at most {MAX_NODES} are allowed", t.ids.len()),
        ));
    }
    check_start(t, &mut v);
    for (i, id) in t.ids.iter().enumerate() {
        let path = node_path(id);
        if !is_valid_node_id(id) {
            v.issues.push(Issue::new(
                Rule::InvalidNodeId,
                path.clone(),
                "node id must match ^[a-z0-9_\\-]{1,64}$",
            ));
        }
        for (field, target) in t.edges.get(i).into_iter().flatten() {
            if t.find(target).is_none() {
                v.issues.push(Issue::new(
                    Rule::DanglingReference,
                    format!("{path}.{field}"),
                    format!("refers to unknown node '{target}'"),
                ));
            }
        }
        match t.node(i) {
            Some(Node::Policy(p)) => {
                match catalog.get(&p.policy) {
                    None => v.issues.push(Issue::new(
                        Rule::UnknownPolicy,
                        format!("{path}.policy"),
                        format!("unknown policy '{}'", p.policy),
                    )),
                    Some(spec) => {
                        for e in
                            schema::check(&spec.config_schema, &p.config, &format!("{path}.config"))
                        {
                            v.issues
                                .push(Issue::new(Rule::InvalidConfig, e.path, e.message));
                        }
                    }
                }
                if let Some(r) = p.max_retries
                    && r > MAX_RETRIES
                {
                    v.issues.push(Issue::new(
                        Rule::MaxRetries,
                        format!("{path}.max_retries"),
                        format!("must be from 0 to {MAX_RETRIES}, got {r}"),
                    ));
                }
            }
            Some(Node::Conditional(c)) => {
                for (i, cond) in c.conditions.iter().enumerate() {
                    check_condition(&mut v, &format!("{path}.conditions[{i}]"), cond);
                }
            }
            _ => {}
        }
    }

    check_reachability(t, &mut v);
    check_cycles(t, &mut v);
    check_dead_ends(t, &mut v);
    v
}

/// Exactly one start node, and the entry is it.
fn check_start(t: &Topology<'_>, v: &mut Validation) {
    let starts: Vec<usize> = (0..t.ids.len()).filter(|i| t.is_start(*i)).collect();
    if let Some(entry) = t.entry_id {
        match t.entry {
            None => v.issues.push(Issue::new(
                Rule::EntryNotFound,
                "graph.entry",
                format!("refers to unknown node '{entry}'"),
            )),
            Some(i) if !t.is_start(i) => v.issues.push(Issue::new(
                Rule::EntryNotStart,
                "graph.entry",
                format!("'{entry}' is not a start node"),
            )),
            Some(_) => {}
        }
    }
    if starts.is_empty() {
        v.issues.push(Issue::new(
            Rule::StartCount,
            "graph.nodes",
            "has no start node; exactly one is required",
        ));
    } else if starts.len() > 1 {
        for i in starts.into_iter().filter(|i| Some(*i) != t.entry) {
            v.issues.push(Issue::new(
                Rule::StartCount,
                format!("{}.type", node_path(t.id(i))),
                "is a second start node; exactly one is allowed",
            ));
        }
    }
}

fn check_condition(v: &mut Validation, path: &str, cond: &super::model::Condition) {
    if !is_valid_field_path(&cond.field) {
        v.issues.push(Issue::new(
            Rule::InvalidFieldPath,
            format!("{path}.field"),
            format!(
                "'{}' must be a dotted path under checks., extracted_data. or session.",
                cond.field
            ),
        ));
    }
    let value_path = format!("{path}.value");
    let lit = cond.value.as_ref();
    let op = &cond.operator;
    match op {
        Operator::Unknown(o) => v.issues.push(Issue::new(
            Rule::UnknownOperator,
            format!("{path}.operator"),
            format!(
                "unknown operator '{o}'; use >=, <=, >, <, ==, !=, in, not_in, contains or exists"
            ),
        )),
        Operator::In | Operator::NotIn => {
            if !matches!(lit, Some(Value::Array(_))) {
                v.issues.push(Issue::new(
                    Rule::InvalidOperatorValue,
                    value_path,
                    format!("operator '{op}' needs an array value"),
                ));
            }
        }
        Operator::Exists => {
            if lit.is_some() {
                v.warnings.push(Issue::new(
                    Rule::LiteralTypeMismatch,
                    value_path,
                    "is ignored by 'exists'",
                ));
            }
        }
        _ => match lit {
            None => v.issues.push(Issue::new(
                Rule::InvalidOperatorValue,
                value_path,
                format!("operator '{op}' needs a value"),
            )),
            Some(l) => {
                let never = match op {
                    Operator::Gt | Operator::Ge | Operator::Lt | Operator::Le => !l.is_number(),
                    Operator::Contains => l.is_object() || l.is_null(),
                    // `== null` / `!= null` can never hold: null fields count as missing.
                    Operator::Eq | Operator::Ne => l.is_null(),
                    _ => false,
                };
                if never {
                    v.warnings.push(Issue::new(
                        Rule::LiteralTypeMismatch,
                        value_path,
                        format!("a {} literal can never match operator '{op}'", kind(l)),
                    ));
                }
            }
        },
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Index-based view of the graph for the traversal rules (cheaper than string-keyed maps).
/// Nodes are in id order; a broken node (see [`PartialGraph`]) has no [`Node`].
struct Topology<'g> {
    ids: Vec<&'g str>,
    nodes: Vec<Slot<'g>>,
    /// Per node: its edges (field, target) as declared.
    edges: Vec<Vec<(Cow<'g, str>, &'g str)>>,
    /// Per node: (target index, position in `edges`) for targets that exist.
    adj: Vec<Vec<(usize, usize)>>,
    /// The entry as written, and the node it names.
    entry_id: Option<&'g str>,
    entry: Option<usize>,
}

/// A node of the view: parsed, or broken and known only by its type and references.
enum Slot<'g> {
    Parsed(&'g Node),
    Broken(&'g BrokenNode),
}

impl<'g> Topology<'g> {
    fn new(
        entry: Option<&'g str>,
        nodes: &'g BTreeMap<String, Node>,
        broken: Option<&'g BTreeMap<String, BrokenNode>>,
    ) -> Self {
        let mut slots: Vec<(&'g str, Slot<'g>)> = nodes
            .iter()
            .map(|(id, n)| (id.as_str(), Slot::Parsed(n)))
            .chain(
                broken
                    .into_iter()
                    .flatten()
                    .map(|(id, b)| (id.as_str(), Slot::Broken(b))),
            )
            .collect();
        // Sorted by id, so lookups are binary searches (both maps are sorted; merging keeps it).
        slots.sort_by(|a, b| a.0.cmp(b.0));
        let edges: Vec<Vec<(Cow<'g, str>, &'g str)>> = slots
            .iter()
            .map(|(_, slot)| match slot {
                Slot::Parsed(n) => n.edges(),
                Slot::Broken(b) => b
                    .edges
                    .iter()
                    .map(|(f, t)| (Cow::Borrowed(f.as_str()), t.as_str()))
                    .collect(),
            })
            .collect();
        let (ids, nodes): (Vec<&str>, Vec<Slot<'g>>) = slots.into_iter().unzip();
        let find = |id: &str| ids.binary_search(&id).ok();
        let adj = edges
            .iter()
            .map(|es| {
                es.iter()
                    .enumerate()
                    .filter_map(|(pos, (_, t))| find(t).map(|i| (i, pos)))
                    .collect()
            })
            .collect();
        let entry_index = entry.and_then(find);
        Self {
            ids,
            nodes,
            edges,
            adj,
            entry_id: entry,
            entry: entry_index,
        }
    }

    fn id(&self, i: usize) -> &str {
        self.ids.get(i).copied().unwrap_or_default()
    }

    fn find(&self, id: &str) -> Option<usize> {
        self.ids.binary_search(&id).ok()
    }

    fn node(&self, i: usize) -> Option<&'g Node> {
        match self.nodes.get(i) {
            Some(Slot::Parsed(n)) => Some(n),
            _ => None,
        }
    }

    fn is_start(&self, i: usize) -> bool {
        match self.nodes.get(i) {
            Some(Slot::Parsed(n)) => n.kind() == NodeKind::Start,
            Some(Slot::Broken(b)) => b.is_start(),
            None => false,
        }
    }

    /// A path reaching this node ends: a terminal, or a broken node (what it would have led to
    /// is unknown, so no dead end is concluded through it).
    fn ends(&self, i: usize) -> bool {
        match self.nodes.get(i) {
            Some(Slot::Parsed(n)) => n.kind() == NodeKind::Terminal,
            Some(Slot::Broken(_)) => true,
            None => false,
        }
    }
}

fn check_reachability(t: &Topology<'_>, v: &mut Validation) {
    let Some(entry) = t.entry else {
        return; // already reported; every node would be "unreachable"
    };
    let mut seen = vec![false; t.ids.len()];
    let mut stack = vec![entry];
    while let Some(i) = stack.pop() {
        match seen.get_mut(i) {
            Some(s) if !*s => *s = true,
            _ => continue,
        }
        if let Some(out) = t.adj.get(i) {
            stack.extend(out.iter().map(|(j, _)| *j));
        }
    }
    for (i, s) in seen.iter().enumerate() {
        if !s {
            v.issues.push(Issue::new(
                Rule::Unreachable,
                node_path(t.id(i)),
                "cannot be reached from the start node",
            ));
        }
    }
}

/// Iterative three-colour DFS (no recursion, so huge inputs cannot overflow the stack), from the
/// entry first so the reported edge is the one pointing back towards the start; every back edge
/// is reported once at the field that closes the cycle.
fn check_cycles(t: &Topology<'_>, v: &mut Validation) {
    const WHITE: u8 = 0;
    const GREY: u8 = 1;
    const BLACK: u8 = 2;
    let n = t.ids.len();
    let mut colour = vec![WHITE; n];
    for root in t.entry.into_iter().chain(0..n) {
        if colour.get(root) != Some(&WHITE) {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        if let Some(c) = colour.get_mut(root) {
            *c = GREY;
        }
        while let Some((i, k)) = stack.pop() {
            let Some(&(j, pos)) = t.adj.get(i).and_then(|out| out.get(k)) else {
                if let Some(c) = colour.get_mut(i) {
                    *c = BLACK;
                }
                continue;
            };
            stack.push((i, k + 1));
            match colour.get(j) {
                Some(&WHITE) => {
                    if let Some(c) = colour.get_mut(j) {
                        *c = GREY;
                    }
                    stack.push((j, 0));
                }
                Some(&GREY) => {
                    let field = t
                        .edges
                        .get(i)
                        .and_then(|es| es.get(pos))
                        .map_or("", |(f, _)| f.as_ref());
                    v.issues.push(Issue::new(
                        Rule::Cycle,
                        format!("{}.{field}", node_path(t.id(i))),
                        format!("edge to '{}' closes a cycle", t.id(j)),
                    ));
                }
                _ => {}
            }
        }
    }
}

/// A node from which no terminal is reachable is a path that never ends.
fn check_dead_ends(t: &Topology<'_>, v: &mut Validation) {
    let n = t.ids.len();
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, out) in t.adj.iter().enumerate() {
        for (j, _) in out {
            if let Some(p) = preds.get_mut(*j) {
                p.push(i);
            }
        }
    }
    let mut ok = vec![false; n];
    let mut stack: Vec<usize> = (0..n).filter(|i| t.ends(*i)).collect();
    while let Some(i) = stack.pop() {
        match ok.get_mut(i) {
            Some(o) if !*o => *o = true,
            _ => continue,
        }
        if let Some(ps) = preds.get(i) {
            stack.extend(ps.iter().copied());
        }
    }
    for (i, o) in ok.iter().enumerate() {
        if !o {
            v.issues.push(Issue::new(
                Rule::DeadEnd,
                node_path(t.id(i)),
                "no terminal node can be reached from here",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::catalog::PolicySpec;
    use serde_json::json;
    use std::collections::BTreeMap;

    pub(crate) fn catalog() -> PolicyCatalog {
        let spec = |name: &str, schema: Value| PolicySpec {
            name: name.into(),
            category: "test".into(),
            description: String::new(),
            config_schema: schema,
            outputs: BTreeMap::new(),
            auto_injected: false,
            requires: Vec::new(),
        };
        PolicyCatalog::from_specs([
            spec("document_ocr", json!({"type": "object"})),
            spec(
                "age_verification",
                json!({"type": "object", "additionalProperties": false,
                       "properties": {"minimum_age": {"type": "integer", "minimum": 0}}}),
            ),
            spec("risk_assessment", json!({"type": "object"})),
            spec("watchlist_screening", json!({"type": "object"})),
        ])
    }

    fn base() -> Value {
        json!({
           "entry": "start",
           "nodes": {
             "start":   {"type": "start", "next": "ocr"},
             "ocr":     {"type": "policy", "policy": "document_ocr", "config": {},
                         "on_pass": "age", "on_fail": "reject", "on_error": "review", "max_retries": 4},
             "age":     {"type": "policy", "policy": "age_verification", "config": {"minimum_age": 18},
                         "on_pass": "risk", "on_fail": "reject"},
             "risk":    {"type": "conditional",
                         "conditions": [{"field": "checks.risk_assessment.risk_level", "operator": "in",
                                         "value": ["high", "critical"], "next": "review"}],
                         "default": "gate"},
             "gate":    {"type": "wait", "next": "approve",
                         "on_fail": {"action": "goto", "node": "review"}, "timeout_seconds": 86400},
             "approve": {"type": "terminal", "outcome": "approved"},
             "reject":  {"type": "terminal", "outcome": "rejected"},
             "review":  {"type": "terminal", "outcome": "needs_review"}}})
    }

    fn run(mutate: impl FnOnce(&mut Value)) -> Validation {
        let mut g = base();
        mutate(&mut g);
        let graph: Graph = serde_json::from_value(g).expect("test graph deserialises");
        validate(&graph, &catalog())
    }

    fn set(g: &mut Value, pointer: &str, v: Value) {
        if let Some(slot) = g.pointer_mut(pointer) {
            *slot = v;
        } else {
            let (parent, key) = pointer.rsplit_once('/').expect("pointer has a parent");
            g.pointer_mut(parent)
                .and_then(Value::as_object_mut)
                .expect("parent exists")
                .insert(key.into(), v);
        }
    }

    #[test]
    fn contract_example_is_valid() {
        let v = run(|_| {});
        assert!(v.is_valid(), "{:?}", v.issues);
        assert!(v.warnings.is_empty());
    }

    type Mutation = fn(&mut Value);

    #[test]
    fn every_rule_is_reported_at_its_field() {
        let cases: Vec<(&str, Mutation, Rule, &str)> = vec![
            (
                "dangling on_pass",
                |g| set(g, "/nodes/ocr/on_pass", json!("face")),
                Rule::DanglingReference,
                "graph.nodes.ocr.on_pass",
            ),
            (
                "dangling condition",
                |g| set(g, "/nodes/risk/conditions/0/next", json!("nope")),
                Rule::DanglingReference,
                "graph.nodes.risk.conditions[0].next",
            ),
            (
                "dangling default",
                |g| set(g, "/nodes/risk/default", json!("nope")),
                Rule::DanglingReference,
                "graph.nodes.risk.default",
            ),
            (
                "dangling goto",
                |g| set(g, "/nodes/gate/on_fail/node", json!("nope")),
                Rule::DanglingReference,
                "graph.nodes.gate.on_fail.node",
            ),
            (
                "dangling on_error",
                |g| set(g, "/nodes/ocr/on_error", json!("nope")),
                Rule::DanglingReference,
                "graph.nodes.ocr.on_error",
            ),
            (
                "dangling on_skip",
                |g| set(g, "/nodes/ocr/on_skip", json!("nope")),
                Rule::DanglingReference,
                "graph.nodes.ocr.on_skip",
            ),
            (
                "entry missing",
                |g| set(g, "/entry", json!("begin")),
                Rule::EntryNotFound,
                "graph.entry",
            ),
            (
                "entry not start",
                |g| set(g, "/entry", json!("ocr")),
                Rule::EntryNotStart,
                "graph.entry",
            ),
            (
                "second start",
                |g| set(g, "/nodes/s2", json!({"type": "start", "next": "approve"})),
                Rule::StartCount,
                "graph.nodes.s2.type",
            ),
            (
                "no start",
                |g| {
                    set(
                        g,
                        "/nodes/start",
                        json!({"type": "terminal", "outcome": "approved"}),
                    )
                },
                Rule::StartCount,
                "graph.nodes",
            ),
            (
                "unreachable",
                |g| {
                    set(
                        g,
                        "/nodes/orphan",
                        json!({"type": "terminal", "outcome": "approved"}),
                    )
                },
                Rule::Unreachable,
                "graph.nodes.orphan",
            ),
            (
                "cycle",
                |g| set(g, "/nodes/age/on_fail", json!("ocr")),
                Rule::Cycle,
                "graph.nodes.age.on_fail",
            ),
            (
                "dead end",
                |g| {
                    set(
                        g,
                        "/nodes/loop_a",
                        json!({"type": "policy", "policy": "document_ocr", "on_pass": "loop_b", "on_fail": "loop_b"}),
                    );
                    set(
                        g,
                        "/nodes/loop_b",
                        json!({"type": "start", "next": "loop_a"}),
                    );
                },
                Rule::DeadEnd,
                "graph.nodes.loop_a",
            ),
            (
                "unknown policy",
                |g| set(g, "/nodes/age/policy", json!("palm_reading")),
                Rule::UnknownPolicy,
                "graph.nodes.age.policy",
            ),
            (
                "config type",
                |g| set(g, "/nodes/age/config/minimum_age", json!("18")),
                Rule::InvalidConfig,
                "graph.nodes.age.config.minimum_age",
            ),
            (
                "config extra",
                |g| set(g, "/nodes/age/config/colour", json!("red")),
                Rule::InvalidConfig,
                "graph.nodes.age.config.colour",
            ),
            (
                "unknown operator",
                |g| set(g, "/nodes/risk/conditions/0/operator", json!("~=")),
                Rule::UnknownOperator,
                "graph.nodes.risk.conditions[0].operator",
            ),
            (
                "in needs array",
                |g| set(g, "/nodes/risk/conditions/0/value", json!("high")),
                Rule::InvalidOperatorValue,
                "graph.nodes.risk.conditions[0].value",
            ),
            (
                "not_in needs array",
                |g| {
                    set(g, "/nodes/risk/conditions/0/operator", json!("not_in"));
                    set(g, "/nodes/risk/conditions/0/value", json!(1));
                },
                Rule::InvalidOperatorValue,
                "graph.nodes.risk.conditions[0].value",
            ),
            (
                "> needs value",
                |g| {
                    set(g, "/nodes/risk/conditions/0/operator", json!(">"));
                    if let Some(c) = g
                        .pointer_mut("/nodes/risk/conditions/0")
                        .and_then(Value::as_object_mut)
                    {
                        c.remove("value");
                    }
                },
                Rule::InvalidOperatorValue,
                "graph.nodes.risk.conditions[0].value",
            ),
            (
                "bad id",
                |g| {
                    set(
                        g,
                        "/nodes/Bad Id",
                        json!({"type": "terminal", "outcome": "approved"}),
                    );
                    set(g, "/nodes/risk/default", json!("Bad Id"));
                },
                Rule::InvalidNodeId,
                "graph.nodes.Bad Id",
            ),
            (
                "id too long",
                |g| {
                    let long = "a".repeat(65);
                    set(
                        g,
                        &format!("/nodes/{long}"),
                        json!({"type": "terminal", "outcome": "approved"}),
                    );
                    set(g, "/nodes/risk/default", json!(long));
                },
                Rule::InvalidNodeId,
                "graph.nodes.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            ),
            (
                "too many nodes",
                |g| {
                    for i in 0..MAX_NODES {
                        set(
                            g,
                            &format!("/nodes/extra_{i}"),
                            json!({"type": "terminal", "outcome": "approved"}),
                        );
                    }
                },
                Rule::TooManyNodes,
                "graph.nodes",
            ),
            (
                "max retries",
                |g| set(g, "/nodes/ocr/max_retries", json!(5)),
                Rule::MaxRetries,
                "graph.nodes.ocr.max_retries",
            ),
            (
                "field path root",
                |g| {
                    set(
                        g,
                        "/nodes/risk/conditions/0/field",
                        json!("risk_assessment.risk_level"),
                    )
                },
                Rule::InvalidFieldPath,
                "graph.nodes.risk.conditions[0].field",
            ),
            (
                "field path empty segment",
                |g| set(g, "/nodes/risk/conditions/0/field", json!("checks..x")),
                Rule::InvalidFieldPath,
                "graph.nodes.risk.conditions[0].field",
            ),
        ];
        for (name, mutate, rule, field) in cases {
            let v = run(mutate);
            assert!(
                v.issues.iter().any(|i| i.rule == rule && i.field == field),
                "{name}: expected {rule:?} at {field}, got {:?}",
                v.issues
            );
        }
    }

    #[test]
    fn warnings_for_literals_that_never_match() {
        let cases: Vec<(&str, Value, bool)> = vec![
            (">", json!("10"), true),
            ("<=", json!(true), true),
            (">=", json!(10), false),
            ("contains", json!({"a": 1}), true),
            ("contains", json!("x"), false),
            ("==", json!(null), true),
            ("==", json!("x"), false),
        ];
        for (op, lit, warn) in cases {
            let v = run(|g| {
                set(g, "/nodes/risk/conditions/0/operator", json!(op));
                set(g, "/nodes/risk/conditions/0/value", lit.clone());
            });
            assert!(v.is_valid(), "{op} {lit}: {:?}", v.issues);
            let got = v.warnings.iter().any(|w| {
                w.rule == Rule::LiteralTypeMismatch
                    && w.field == "graph.nodes.risk.conditions[0].value"
            });
            assert_eq!(got, warn, "{op} {lit}");
        }
    }

    #[test]
    fn node_ids() {
        for (id, ok) in [
            ("a", true),
            ("step_1-x", true),
            ("", false),
            ("A", false),
            ("a.b", false),
            ("é", false),
        ] {
            assert_eq!(is_valid_node_id(id), ok, "{id}");
        }
        assert!(is_valid_node_id(&"z".repeat(64)));
    }
}
