//! Lenient, exhaustive parsing of a workflow definition from JSON. Unlike serde, which stops at
//! the first problem, this walks the whole document and reports every wrong type, missing field,
//! unknown field and bad enum value at once, each with its dotted path.
//!
//! Top-level keys other than `format`, `graph` and `steps` are ignored: the definition is usually
//! embedded in a larger request body whose other fields the HTTP layer checks.

use serde_json::{Map, Value};

use super::issue::{Issue, Rule};
use super::model::{
    Condition, ConditionalNode, Definition, Format, GateFailAction, Graph, Node, Operator, Outcome,
    PolicyNode, Step, WaitNode,
};
use super::partial::{BrokenNode, PartialGraph};
use super::steps::steps_to_graph;

/// The outcome of [`parse`].
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// Every field parsed.
    Complete(Definition),
    /// Problems were found. `partial` is the graph as far as it parsed (absent for steps, or
    /// when the graph or its nodes are not objects), so that the rest can still be validated.
    Incomplete {
        /// Every problem the parser found.
        issues: Vec<Issue>,
        /// The graph as far as it parsed.
        partial: Option<PartialGraph>,
    },
}

/// Parses `{"format":"graph","graph":{...}}` or `{"format":"steps","steps":[...]}`. `format` may
/// be omitted; it is then inferred from whichever of `graph` / `steps` is present (graph first).
/// Steps definitions are normalised into a graph with [`steps_to_graph`].
pub fn parse_definition(root: &Value) -> Result<Definition, Vec<Issue>> {
    match parse(root) {
        Parsed::Complete(d) => Ok(d),
        Parsed::Incomplete { issues, .. } => Err(issues),
    }
}

/// Like [`parse_definition`], but keeps what parsed of a graph with problems.
pub fn parse(root: &Value) -> Parsed {
    let mut p = Parser { issues: Vec::new() };
    let Some(obj) = root.as_object() else {
        return Parsed::Incomplete {
            issues: vec![Issue::new(Rule::WrongType, "", "must be a JSON object")],
            partial: None,
        };
    };
    let present = |k: &str| obj.get(k).is_some_and(|v| !v.is_null());
    let format = match obj.get("format") {
        None | Some(Value::Null) => {
            if present("graph") {
                Some(Format::Graph)
            } else if present("steps") {
                Some(Format::Steps)
            } else {
                p.push(
                    Rule::MissingField,
                    "graph",
                    "either 'graph' or 'steps' is required",
                );
                None
            }
        }
        Some(Value::String(s)) if s == "graph" => Some(Format::Graph),
        Some(Value::String(s)) if s == "steps" => Some(Format::Steps),
        Some(Value::String(s)) => {
            p.push(
                Rule::InvalidFormat,
                "format",
                format!("must be 'graph' or 'steps', got '{s}'"),
            );
            None
        }
        Some(_) => {
            p.push(Rule::WrongType, "format", "must be a string");
            None
        }
    };
    match format {
        Some(Format::Graph) => match obj.get("graph") {
            Some(v) if !v.is_null() => {
                let partial = p.graph(v, "graph");
                match partial.map(complete) {
                    Some(Ok(graph)) if p.issues.is_empty() => Parsed::Complete(Definition {
                        format: Format::Graph,
                        graph,
                        steps: None,
                    }),
                    Some(Ok(graph)) => Parsed::Incomplete {
                        issues: p.issues,
                        partial: Some(PartialGraph {
                            entry: Some(graph.entry),
                            nodes: graph.nodes,
                            broken: Default::default(),
                        }),
                    },
                    Some(Err(partial)) => Parsed::Incomplete {
                        issues: p.issues,
                        partial: Some(partial),
                    },
                    None => p.incomplete(),
                }
            }
            _ => {
                p.push(
                    Rule::MissingField,
                    "graph",
                    "is required when format is 'graph'",
                );
                p.incomplete()
            }
        },
        Some(Format::Steps) => match obj.get("steps") {
            Some(v) if !v.is_null() => match p.steps(v) {
                Some(steps) if p.issues.is_empty() => Parsed::Complete(Definition {
                    format: Format::Steps,
                    graph: steps_to_graph(&steps),
                    steps: Some(steps),
                }),
                _ => p.incomplete(),
            },
            _ => {
                p.push(
                    Rule::MissingField,
                    "steps",
                    "is required when format is 'steps'",
                );
                p.incomplete()
            }
        },
        None => p.incomplete(),
    }
}

/// The graph, when every node parsed and it has an entry.
fn complete(partial: PartialGraph) -> Result<Graph, PartialGraph> {
    match partial.entry {
        Some(entry) if partial.broken.is_empty() => Ok(Graph {
            entry,
            nodes: partial.nodes,
        }),
        _ => Err(partial),
    }
}

/// Parses just a graph object (`{"entry": ..., "nodes": {...}}`); `path` prefixes issue fields.
pub fn parse_graph(value: &Value, path: &str) -> Result<Graph, Vec<Issue>> {
    let mut p = Parser { issues: Vec::new() };
    match p.graph(value, path).map(complete) {
        Some(Ok(g)) if p.issues.is_empty() => Ok(g),
        _ => Err(p.issues),
    }
}

struct Parser {
    issues: Vec<Issue>,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// One JSON object whose unknown keys have already been reported, plus its path.
struct Fields<'a> {
    obj: &'a Map<String, Value>,
    path: String,
}

impl Parser {
    fn push(&mut self, rule: Rule, field: impl Into<String>, message: impl Into<String>) {
        self.issues.push(Issue::new(rule, field, message));
    }

    fn object<'a>(
        &mut self,
        v: &'a Value,
        path: &str,
        allowed: &'static [&'static str],
    ) -> Option<Fields<'a>> {
        match v.as_object() {
            Some(obj) => {
                for key in obj.keys() {
                    if !allowed.contains(&key.as_str()) {
                        self.push(Rule::UnknownField, join(path, key), "unknown field");
                    }
                }
                Some(Fields {
                    obj,
                    path: path.to_owned(),
                })
            }
            None => {
                self.push(Rule::WrongType, path, "must be an object");
                None
            }
        }
    }

    /// Required string field.
    fn req_str(&mut self, f: &Fields<'_>, key: &str) -> Option<String> {
        match f.obj.get(key) {
            None | Some(Value::Null) => {
                self.push(Rule::MissingField, join(&f.path, key), "is required");
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.push(Rule::WrongType, join(&f.path, key), "must be a string");
                None
            }
        }
    }

    /// Optional string field: `Ok(None)` when absent/null, `Err(())` when of the wrong type.
    fn opt_str(&mut self, f: &Fields<'_>, key: &str) -> Result<Option<String>, ()> {
        match f.obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => {
                self.push(Rule::WrongType, join(&f.path, key), "must be a string");
                Err(())
            }
        }
    }

    fn config(&mut self, f: &Fields<'_>) -> Option<Value> {
        match f.obj.get("config") {
            None | Some(Value::Null) => Some(Value::Object(Map::new())),
            Some(v @ Value::Object(_)) => Some(v.clone()),
            Some(_) => {
                self.push(
                    Rule::WrongType,
                    join(&f.path, "config"),
                    "must be an object",
                );
                None
            }
        }
    }

    fn incomplete(self) -> Parsed {
        Parsed::Incomplete {
            issues: self.issues,
            partial: None,
        }
    }

    /// The graph as far as it parses; `None` when it or its `nodes` is not an object.
    fn graph(&mut self, v: &Value, path: &str) -> Option<PartialGraph> {
        let f = self.object(v, path, &["entry", "nodes"])?;
        let entry = self.req_str(&f, "entry");
        let nodes_path = join(path, "nodes");
        let nodes = match f.obj.get("nodes") {
            Some(Value::Object(map)) => map,
            None | Some(Value::Null) => {
                self.push(Rule::MissingField, nodes_path, "is required");
                return None;
            }
            Some(_) => {
                self.push(
                    Rule::WrongType,
                    nodes_path,
                    "must be an object of node id → node",
                );
                return None;
            }
        };
        let mut partial = PartialGraph {
            entry,
            ..PartialGraph::default()
        };
        for (id, nv) in nodes {
            match self.node(nv, &join(&nodes_path, id)) {
                Some(n) => {
                    partial.nodes.insert(id.clone(), n);
                }
                None => {
                    partial.broken.insert(id.clone(), BrokenNode::salvage(nv));
                }
            }
        }
        Some(partial)
    }

    fn node(&mut self, v: &Value, path: &str) -> Option<Node> {
        let Some(obj) = v.as_object() else {
            self.push(Rule::WrongType, path, "must be an object");
            return None;
        };
        let ty = match obj.get("type") {
            Some(Value::String(s)) => s.as_str(),
            None | Some(Value::Null) => {
                self.push(Rule::MissingField, join(path, "type"), "is required");
                return None;
            }
            Some(_) => {
                self.push(Rule::WrongType, join(path, "type"), "must be a string");
                return None;
            }
        };
        match ty {
            "start" => {
                let f = self.object(v, path, &["type", "next"])?;
                let next = self.req_str(&f, "next")?;
                Some(Node::Start { next })
            }
            "terminal" => {
                let f = self.object(v, path, &["type", "outcome"])?;
                let outcome = self.req_str(&f, "outcome")?;
                match Outcome::parse(&outcome) {
                    Some(outcome) => Some(Node::Terminal { outcome }),
                    None => {
                        self.push(
                            Rule::InvalidOutcome,
                            join(path, "outcome"),
                            format!("must be approved, rejected or needs_review, got '{outcome}'"),
                        );
                        None
                    }
                }
            }
            "policy" => self.policy(v, path),
            "conditional" => self.conditional(v, path),
            "wait" => self.wait(v, path),
            other => {
                self.push(
                    Rule::UnknownNodeType,
                    join(path, "type"),
                    format!("must be start, policy, conditional, wait or terminal, got '{other}'"),
                );
                None
            }
        }
    }

    fn policy(&mut self, v: &Value, path: &str) -> Option<Node> {
        let f = self.object(
            v,
            path,
            &[
                "type",
                "policy",
                "config",
                "on_pass",
                "on_fail",
                "on_error",
                "on_skip",
                "max_retries",
            ],
        )?;
        let policy = self.req_str(&f, "policy");
        let config = self.config(&f);
        let on_pass = self.req_str(&f, "on_pass");
        let on_fail = self.req_str(&f, "on_fail");
        let on_error = self.opt_str(&f, "on_error");
        let on_skip = self.opt_str(&f, "on_skip");
        let max_retries = match f.obj.get("max_retries") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => match n.as_u64().and_then(|n| u8::try_from(n).ok()) {
                Some(n) => Ok(Some(n)),
                None => {
                    self.push(
                        Rule::MaxRetries,
                        join(path, "max_retries"),
                        format!("must be an integer from 0 to 4, got {n}"),
                    );
                    Err(())
                }
            },
            Some(_) => {
                self.push(
                    Rule::WrongType,
                    join(path, "max_retries"),
                    "must be an integer",
                );
                Err(())
            }
        };
        Some(Node::Policy(PolicyNode {
            policy: policy?,
            config: config?,
            on_pass: on_pass?,
            on_fail: on_fail?,
            on_error: on_error.ok()?,
            on_skip: on_skip.ok()?,
            max_retries: max_retries.ok()?,
        }))
    }

    fn conditional(&mut self, v: &Value, path: &str) -> Option<Node> {
        let f = self.object(v, path, &["type", "conditions", "default"])?;
        let default = self.req_str(&f, "default");
        let cpath = join(path, "conditions");
        let conditions = match f.obj.get("conditions") {
            None | Some(Value::Null) => {
                self.push(Rule::MissingField, cpath, "is required");
                None
            }
            Some(Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                let mut ok = true;
                for (i, item) in items.iter().enumerate() {
                    match self.condition(item, &format!("{cpath}[{i}]")) {
                        Some(c) => out.push(c),
                        None => ok = false,
                    }
                }
                ok.then_some(out)
            }
            Some(_) => {
                self.push(Rule::WrongType, cpath, "must be an array");
                None
            }
        };
        Some(Node::Conditional(ConditionalNode {
            conditions: conditions?,
            default: default?,
        }))
    }

    fn condition(&mut self, v: &Value, path: &str) -> Option<Condition> {
        let f = self.object(v, path, &["field", "operator", "value", "next"])?;
        let field = self.req_str(&f, "field");
        let operator = self.req_str(&f, "operator");
        let next = self.req_str(&f, "next");
        let value = f.obj.get("value").cloned();
        Some(Condition {
            field: field?,
            operator: Operator::from(operator?),
            value,
            next: next?,
        })
    }

    fn wait(&mut self, v: &Value, path: &str) -> Option<Node> {
        let f = self.object(v, path, &["type", "next", "on_fail", "timeout_seconds"])?;
        let next = self.req_str(&f, "next");
        let fpath = join(path, "on_fail");
        let on_fail = match f.obj.get("on_fail") {
            None | Some(Value::Null) => {
                self.push(Rule::MissingField, fpath, "is required");
                None
            }
            Some(a) => self.gate_action(a, &fpath),
        };
        let timeout = match f.obj.get("timeout_seconds") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) if n.as_u64().is_some() => Ok(n.as_u64()),
            Some(_) => {
                self.push(
                    Rule::WrongType,
                    join(path, "timeout_seconds"),
                    "must be a non-negative integer",
                );
                Err(())
            }
        };
        Some(Node::Wait(WaitNode {
            next: next?,
            on_fail: on_fail?,
            timeout_seconds: timeout.ok()?,
        }))
    }

    fn gate_action(&mut self, v: &Value, path: &str) -> Option<GateFailAction> {
        let action = match v.get("action") {
            Some(Value::String(s)) => s.as_str(),
            None | Some(Value::Null) if v.is_object() => {
                self.push(Rule::MissingField, join(path, "action"), "is required");
                return None;
            }
            _ if !v.is_object() => {
                self.push(Rule::WrongType, path, "must be an object");
                return None;
            }
            _ => {
                self.push(Rule::WrongType, join(path, "action"), "must be a string");
                return None;
            }
        };
        match action {
            "review" => {
                self.object(v, path, &["action"])?;
                Some(GateFailAction::Review)
            }
            "reject" => {
                self.object(v, path, &["action"])?;
                Some(GateFailAction::Reject)
            }
            "goto" => {
                let f = self.object(v, path, &["action", "node"])?;
                let node = self.req_str(&f, "node")?;
                Some(GateFailAction::Goto { node })
            }
            other => {
                self.push(
                    Rule::InvalidGateAction,
                    join(path, "action"),
                    format!("must be review, reject or goto, got '{other}'"),
                );
                None
            }
        }
    }

    fn steps(&mut self, v: &Value) -> Option<Vec<Step>> {
        let Some(items) = v.as_array() else {
            self.push(Rule::WrongType, "steps", "must be an array");
            return None;
        };
        if items.is_empty() {
            // A workflow with no check would approve everyone.
            self.push(Rule::MissingField, "steps", "must list at least one step");
            return None;
        }
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let path = format!("steps[{i}]");
            let Some(f) = self.object(item, &path, &["policy", "config"]) else {
                ok = false;
                continue;
            };
            let policy = self.req_str(&f, "policy");
            let config = self.config(&f);
            match (policy, config) {
                (Some(policy), Some(config)) => out.push(Step { policy, config }),
                _ => ok = false,
            }
        }
        ok.then_some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn issues(v: Value) -> Vec<(Rule, String)> {
        match parse_definition(&v) {
            Ok(_) => Vec::new(),
            Err(is) => is.into_iter().map(|i| (i.rule, i.field)).collect(),
        }
    }

    #[test]
    fn parses_contract_example_and_infers_format() {
        let g = json!({"graph": {"entry": "s", "nodes": {
            "s": {"type": "start", "next": "t"},
            "t": {"type": "terminal", "outcome": "approved"}}}});
        let d = parse_definition(&g).expect("valid");
        assert_eq!(d.format, Format::Graph);
        let s = json!({"steps": [{"policy": "document_ocr"}]});
        let d = parse_definition(&s).expect("valid");
        assert_eq!(d.format, Format::Steps);
        assert_eq!(d.graph.nodes.len(), 5);
    }

    #[test]
    fn reports_every_problem_at_once() {
        let v = json!({"format": "graph", "graph": {"entry": "s", "extra": 1, "nodes": {
            "s": {"type": "start", "next": 5},
            "ocr": {"type": "policy", "policy": "document_ocr", "on_fail": "t", "colour": "red",
                    "max_retries": 900, "config": []},
            "c": {"type": "conditional", "conditions": [{"field": "x", "operator": ">", "nxt": "t"}],
                  "default": "t"},
            "w": {"type": "wait", "next": "t", "on_fail": {"action": "explode"}},
            "w2": {"type": "wait", "next": "t", "on_fail": {"action": "goto"}},
            "t": {"type": "terminal", "outcome": "maybe"},
            "x": {"type": "loop"}}}});
        let got = issues(v);
        let want: Vec<(Rule, &str)> = vec![
            (Rule::UnknownField, "graph.extra"),
            (Rule::WrongType, "graph.nodes.s.next"),
            (Rule::UnknownField, "graph.nodes.ocr.colour"),
            (Rule::WrongType, "graph.nodes.ocr.config"),
            (Rule::MissingField, "graph.nodes.ocr.on_pass"),
            (Rule::MaxRetries, "graph.nodes.ocr.max_retries"),
            (Rule::UnknownField, "graph.nodes.c.conditions[0].nxt"),
            (Rule::MissingField, "graph.nodes.c.conditions[0].next"),
            (Rule::InvalidGateAction, "graph.nodes.w.on_fail.action"),
            (Rule::MissingField, "graph.nodes.w2.on_fail.node"),
            (Rule::InvalidOutcome, "graph.nodes.t.outcome"),
            (Rule::UnknownNodeType, "graph.nodes.x.type"),
        ];
        for (rule, field) in &want {
            assert!(
                got.iter().any(|(r, f)| r == rule && f == field),
                "missing {rule:?} at {field}; got {got:?}"
            );
        }
        assert_eq!(got.len(), want.len(), "{got:?}");
    }

    #[test]
    fn table_of_top_level_problems() {
        let cases: Vec<(Value, Rule, &str)> = vec![
            (json!([]), Rule::WrongType, ""),
            (json!({}), Rule::MissingField, "graph"),
            (
                json!({"format": "dag", "graph": {}}),
                Rule::InvalidFormat,
                "format",
            ),
            (json!({"format": 1}), Rule::WrongType, "format"),
            (json!({"format": "graph"}), Rule::MissingField, "graph"),
            (json!({"format": "steps"}), Rule::MissingField, "steps"),
            (
                json!({"graph": {"nodes": {}}}),
                Rule::MissingField,
                "graph.entry",
            ),
            (
                json!({"graph": {"entry": "s"}}),
                Rule::MissingField,
                "graph.nodes",
            ),
            (
                json!({"graph": {"entry": "s", "nodes": []}}),
                Rule::WrongType,
                "graph.nodes",
            ),
            (json!({"steps": {}}), Rule::WrongType, "steps"),
            (
                json!({"steps": [{"config": {}}]}),
                Rule::MissingField,
                "steps[0].policy",
            ),
            (
                json!({"steps": [{"policy": "a"}, {"policy": 3}]}),
                Rule::WrongType,
                "steps[1].policy",
            ),
            (
                json!({"steps": [{"policy": "a", "cfg": 1}]}),
                Rule::UnknownField,
                "steps[0].cfg",
            ),
            (
                json!({"graph": {"entry": "s", "nodes": {"s": {"next": "t"}}}}),
                Rule::MissingField,
                "graph.nodes.s.type",
            ),
            (
                json!({"graph": {"entry": "s", "nodes": {"s": 4}}}),
                Rule::WrongType,
                "graph.nodes.s",
            ),
        ];
        for (v, rule, field) in cases {
            let got = issues(v.clone());
            assert!(
                got.iter().any(|(r, f)| *r == rule && f == field),
                "{v}: expected {rule:?} at '{field}', got {got:?}"
            );
        }
    }
}
