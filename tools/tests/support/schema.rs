//! Validates `pt sim`'s wire traffic against Kalshi's published specs with a
//! real JSON Schema validator (`jsonschema`), not hand-picked fields.
//!
//! The specs are not ours and never live in this repository: they are read at
//! test time from `../shared/reference/kalshi/` beside the repository (found
//! from `CARGO_MANIFEST_DIR`). When that directory is absent, [`Specs::load`]
//! prints `skipping: <path> not found` and returns `None`, and callers skip.
//!
//! # Which spec answers
//!
//! - REST: `openapi-3.28-pages/*.yaml` (3.28.0, one standalone OpenAPI 3.0
//!   document per endpoint, each with its own `components`) are searched
//!   first, in file-name order, then `openapi-3.13.0.yaml`. The first
//!   document that has the operation *and* documents the status answers.
//! - "Where the spec versions disagree, the newer wins": before use, every
//!   `#/components/schemas/X` that a 3.28 page defines replaces the 3.13
//!   definition of `X`. So operations that only 3.13 documents (say
//!   `GET /portfolio/orders/{order_id}`, `GET /markets/{ticker}`) return the
//!   3.28 `Order` / `Market`. [`Specs::notes`] lists each replacement that
//!   changed something.
//! - WebSocket: `asyncapi-2.0.0.yaml` (an AsyncAPI 3.0.0 document, API
//!   version 2.0.0). Every `components/messages/*` whose payload has a
//!   `type` property with a `const`/`enum` is a server message for that
//!   type; one with a `cmd` property is a client command. Several messages
//!   may share a type (`ok` is both the update-subscription ack and the
//!   `list_subscriptions` answer): a message is valid if it matches any.
//!
//! # Conversion rules
//!
//! - YAML is read with `serde_yaml` into `serde_yaml::Value` and converted to
//!   `serde_json::Value` (non-string keys become their text; tags dropped).
//! - Each document is registered whole, under its own base URI
//!   (`urn:kalshi:...`), in a `jsonschema::Registry`. A validator is built
//!   for `{"$ref": "<doc uri>#<JSON pointer to the schema>"}`, so the spec's
//!   own `#/components/schemas/...`, `#/components/responses/...` and
//!   `#/components/messages/...` references resolve in memory inside the
//!   document they came from (no file or HTTP resolution: the crate is built
//!   with `default-features = false`). Response and request-body `$ref`s to
//!   `#/components/responses/...` / `#/components/requestBodies/...` are
//!   followed in Rust to reach the media type's `schema`.
//! - Draft: OpenAPI 3.0 Schema Objects are a JSON Schema "Wright draft 00"
//!   (draft 5) dialect with draft-4 semantics (boolean `exclusiveMinimum`,
//!   siblings of `$ref` ignored, no `const`), so the OpenAPI documents are
//!   validated as **Draft 4**. AsyncAPI 3.0 Schema Objects are a superset of
//!   **Draft 7** and this spec relies on `const` (absent from Draft 4), so
//!   the AsyncAPI document is validated as Draft 7.
//! - `nullable: true` (OpenAPI 3.0 only): with a plain `type`, `"null"` is
//!   added to `type` (and to `enum` when present). When the schema has no
//!   `type` but a `$ref` or `allOf`/`anyOf`/`oneOf`/`not` (the spec writes
//!   `{$ref: FixedPointCount, nullable: true}`), the schema becomes
//!   `{"anyOf": [<schema without nullable>, {"type": "null"}]}`: in Draft 4
//!   a sibling of `$ref` would be ignored, and the intent is plainly "this
//!   type or null". With neither, `enum` gains `null` and nothing else
//!   changes. `nullable: false` is dropped.
//! - Other siblings of `$ref` (`description`, `deprecated`, `x-*`, `example`)
//!   are annotations and are left alone (ignored, as OpenAPI 3.0 says).
//! - `example`, `examples`, `x-*`, `discriminator`, `readOnly`, `writeOnly`,
//!   `deprecated` are annotations and are left in place (Draft 4 ignores
//!   unknown keywords).
//! - Formats are **asserted**: `date-time` (RFC 3339) as the drafts define
//!   it, and `uuid` (only the AsyncAPI spec uses it: `market_id`, `trade_id`,
//!   `order_id`, `user_id`) by a registered checker, since `jsonschema` only
//!   knows `uuid` from draft 2019-09 on. OpenAPI's `int32`, `int64`,
//!   `double` are unknown formats and are ignored.
//! - No spec schema sets `additionalProperties: false`, so extra fields pass.
//!
//! # Spec errata worked around
//!
//! - AsyncAPI `components/schemas/marketTicker` has
//!   `pattern: '^[A-Z0-9-]+$'`, which rejects real tickers and the spec's
//!   own examples (`FED-23DEC-T3.00`, `HIGHNY-22DEC23-B53.5`). The pattern is
//!   widened to `^[A-Z0-9.-]+$` (recorded in [`Specs::notes`]).
//! - Not patched: the AsyncAPI `fill` message example omits `fee_cost`,
//!   which its payload requires; it fails validation, as it should.
//!
//! # Errors
//!
//! `Err(String)` names the operation or message and the schema (document URI
//! and pointer), then one line per violation, `at <instance pointer>:
//! <message> [schema <keyword path>]`, with the branches of a failed
//! `anyOf`/`oneOf` indented below, then the body (cut to 200 characters).
//! The keyword path comes from `jsonschema`, which compiles a shared `$ref`
//! target once: inside one, the path may name the first property that used
//! it rather than this one. The instance pointer is always right.
//!
//! Validators are compiled lazily, once per schema, and cached behind a
//! mutex, so validating thousands of messages costs one compile per schema.

use jsonschema::error::ValidationErrorKind;
use jsonschema::{Draft, Registry, ValidationError, Validator};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

const OPENAPI_313: &str = "openapi-3.13.0.yaml";
const PAGES_328: &str = "openapi-3.28-pages";
const ASYNCAPI: &str = "asyncapi-2.0.0.yaml";
const JSON_MEDIA: &str = "application/json";
const SERVER_BASE: &str = "/trade-api/v2";
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];
/// The AsyncAPI `marketTicker` pattern and its widened replacement.
const TICKER_PATTERN_BAD: &str = "^[A-Z0-9-]+$";
const TICKER_PATTERN_FIXED: &str = "^[A-Z0-9.-]+$";

/// Where the reference specs live: `../shared/reference/kalshi` beside the
/// repository.
pub fn spec_dir() -> PathBuf {
    pt_tests::data::shared_path("reference/kalshi")
}

/// One spec document, converted and registered under `uri`.
struct Doc {
    /// For messages: `3.28 get-balance.yaml`, `3.13`, `asyncapi`.
    label: String,
    uri: String,
    draft: Draft,
    value: Value,
}

/// One AsyncAPI message: its payload schema and its examples.
struct WsMessage {
    /// `components/messages` key, e.g. `orderbookDelta`.
    name: String,
    /// JSON pointer to the payload schema in the AsyncAPI document.
    pointer: String,
    examples: Vec<Value>,
}

/// A schema example from the spec, with the schema it belongs to.
#[derive(Debug, Clone)]
pub struct Example {
    /// `<doc label>#<pointer>` of the schema carrying the example.
    pub location: String,
    pub value: Value,
    draft: Draft,
    uri: String,
    pointer: String,
}

/// Kalshi's REST and WebSocket specs, ready to validate against.
pub struct Specs {
    dir: PathBuf,
    /// 3.28 pages in file-name order, then 3.13.
    openapi: Vec<Doc>,
    asyncapi: Doc,
    ws_types: BTreeMap<String, Vec<WsMessage>>,
    ws_commands: BTreeMap<String, Vec<WsMessage>>,
    openapi_registry: Registry,
    asyncapi_registry: Registry,
    notes: Vec<String>,
    cache: Mutex<HashMap<String, Arc<Validator>>>,
}

impl fmt::Debug for Specs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Specs")
            .field("dir", &self.dir)
            .field(
                "openapi",
                &self.openapi.iter().map(|d| &d.label).collect::<Vec<_>>(),
            )
            .field("asyncapi", &self.asyncapi.label)
            .field("ws_types", &self.ws_types.keys().collect::<Vec<_>>())
            .field("ws_commands", &self.ws_commands.keys().collect::<Vec<_>>())
            .field("notes", &self.notes.len())
            .finish_non_exhaustive()
    }
}

impl Specs {
    /// Loads and converts the specs. `None` (after printing
    /// `skipping: <path> not found`) when the reference directory is absent.
    /// Panics when the directory exists but a spec is missing or malformed.
    pub fn load() -> Option<Specs> {
        let dir = pt_tests::data::present(spec_dir())?;
        Some(Specs::load_from(&dir).unwrap_or_else(|e| panic!("{e}")))
    }

    /// One [`Specs`] per test binary, so the validator cache is shared by
    /// every test in it. `None` as for [`Specs::load`].
    pub fn shared() -> Option<&'static Specs> {
        static SPECS: OnceLock<Option<Specs>> = OnceLock::new();
        SPECS.get_or_init(Specs::load).as_ref()
    }

    fn load_from(dir: &Path) -> Result<Specs, String> {
        let mut notes = Vec::new();

        // 3.28 pages, in file-name order.
        let pages_dir = dir.join(PAGES_328);
        let mut pages: Vec<PathBuf> = std::fs::read_dir(&pages_dir)
            .map_err(|e| format!("read {}: {e}", pages_dir.display()))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .collect();
        pages.sort();
        let mut openapi = Vec::new();
        for path in &pages {
            let name = file_name(path);
            let value = read_yaml(path)?;
            openapi.push(Doc {
                label: format!("{} {name}", version_of(&value)),
                uri: format!("urn:kalshi:openapi-3.28:{}", name.trim_end_matches(".yaml")),
                draft: Draft::Draft4,
                value,
            });
        }

        // 3.13, with every schema the 3.28 pages define replaced by theirs.
        let mut old = read_yaml(&dir.join(OPENAPI_313))?;
        let mut newer: BTreeMap<String, (String, Value)> = BTreeMap::new();
        for page in &openapi {
            let schemas = page
                .value
                .pointer("/components/schemas")
                .and_then(Value::as_object);
            for (name, schema) in schemas.into_iter().flatten() {
                match newer.get(name) {
                    Some((first, kept)) if kept != schema => notes.push(format!(
                        "3.28 pages disagree on schema {name}: kept {first}, ignored {}",
                        page.label
                    )),
                    Some(_) => {}
                    None => {
                        newer.insert(name.clone(), (page.label.clone(), schema.clone()));
                    }
                }
            }
        }
        let old_schemas = old
            .pointer_mut("/components/schemas")
            .and_then(Value::as_object_mut)
            .ok_or_else(|| format!("{OPENAPI_313} has no components/schemas"))?;
        for (name, (from, schema)) in newer {
            match old_schemas.insert(name.clone(), schema.clone()) {
                Some(previous) if previous != schema => notes.push(format!(
                    "3.13 #/components/schemas/{name} replaced by the 3.28 definition ({from})"
                )),
                _ => {}
            }
        }
        openapi.push(Doc {
            label: version_of(&old),
            uri: "urn:kalshi:openapi-3.13".to_string(),
            draft: Draft::Draft4,
            value: old,
        });
        for doc in &mut openapi {
            openapi_nullable(&mut doc.value);
        }

        // AsyncAPI.
        let mut async_value = read_yaml(&dir.join(ASYNCAPI))?;
        let mut widened = Vec::new();
        widen_ticker_pattern(&mut async_value, "", &mut widened);
        for at in widened {
            notes.push(format!(
                "asyncapi {at}: pattern {TICKER_PATTERN_BAD} widened to {TICKER_PATTERN_FIXED} \
                 (the spec's own examples, e.g. FED-23DEC-T3.00, contain '.')"
            ));
        }
        let asyncapi = Doc {
            label: "asyncapi".to_string(),
            uri: "urn:kalshi:asyncapi".to_string(),
            draft: Draft::Draft7,
            value: async_value,
        };
        let (ws_types, ws_commands) = ws_messages(&asyncapi.value)?;

        let openapi_registry = Registry::options()
            .draft(Draft::Draft4)
            .build(openapi.iter().map(|d| {
                (
                    d.uri.clone(),
                    Draft::Draft4.create_resource(d.value.clone()),
                )
            }))
            .map_err(|e| format!("register the OpenAPI documents: {e}"))?;
        let asyncapi_registry = Registry::options()
            .draft(Draft::Draft7)
            .build([(
                asyncapi.uri.clone(),
                Draft::Draft7.create_resource(asyncapi.value.clone()),
            )])
            .map_err(|e| format!("register the AsyncAPI document: {e}"))?;

        Ok(Specs {
            dir: dir.to_path_buf(),
            openapi,
            asyncapi,
            ws_types,
            ws_commands,
            openapi_registry,
            asyncapi_registry,
            notes,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// Validates a REST response body for `method` + `path_template` (as
    /// written in the spec's `paths`, relative to `/trade-api/v2`; a leading
    /// `/trade-api/v2` and any query string are dropped) and `status`.
    pub fn validate_response(
        &self,
        method: &str,
        path_template: &str,
        status: u16,
        body: &Value,
    ) -> Result<(), String> {
        let (doc, pointer) = self.response_schema(method, path_template, status)?;
        let what = format!(
            "{} {} {status} response ({})",
            method.to_uppercase(),
            normalize_path(path_template),
            doc.label
        );
        self.check(doc.draft, &doc.uri, &pointer, body, &what)
    }

    /// Validates a request body for `method` + `path_template`.
    pub fn validate_request(
        &self,
        method: &str,
        path_template: &str,
        body: &Value,
    ) -> Result<(), String> {
        let (doc, pointer) = self.request_schema(method, path_template)?;
        let what = format!(
            "{} {} request body ({})",
            method.to_uppercase(),
            normalize_path(path_template),
            doc.label
        );
        self.check(doc.draft, &doc.uri, &pointer, body, &what)
    }

    /// Validates a server → client WebSocket message, chosen by its `type`.
    pub fn validate_ws(&self, message: &Value) -> Result<(), String> {
        let Some(kind) = message.get("type").and_then(Value::as_str) else {
            return Err(format!(
                "ws message has no string \"type\": {}",
                brief(message)
            ));
        };
        let Some(candidates) = self.ws_types.get(kind) else {
            return Err(format!(
                "ws message type {kind:?} is not in the AsyncAPI spec (known: {})",
                self.ws_types.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
        };
        self.check_any(candidates, message, &format!("ws {kind:?} message"))
    }

    /// Validates a client → server WebSocket command, chosen by its `cmd`.
    pub fn validate_ws_command(&self, command: &Value) -> Result<(), String> {
        let Some(cmd) = command.get("cmd").and_then(Value::as_str) else {
            return Err(format!(
                "ws command has no string \"cmd\": {}",
                brief(command)
            ));
        };
        let Some(candidates) = self.ws_commands.get(cmd) else {
            return Err(format!(
                "ws command {cmd:?} is not in the AsyncAPI spec (known: {})",
                self.ws_commands
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        };
        self.check_any(candidates, command, &format!("ws {cmd:?} command"))
    }

    /// The server message types the AsyncAPI spec defines, sorted.
    pub fn ws_types(&self) -> Vec<String> {
        self.ws_types.keys().cloned().collect()
    }

    /// The client commands the AsyncAPI spec defines, sorted.
    pub fn ws_commands(&self) -> Vec<String> {
        self.ws_commands.keys().cloned().collect()
    }

    /// `(message name, payload)` for every message example in the AsyncAPI
    /// spec whose payload is a JSON object with a `type` or `cmd`.
    pub fn ws_examples(&self) -> Vec<(String, Value)> {
        let mut out = Vec::new();
        for messages in self.ws_types.values().chain(self.ws_commands.values()) {
            for message in messages {
                for example in &message.examples {
                    out.push((message.name.clone(), example.clone()));
                }
            }
        }
        out
    }

    /// Every REST operation, one line each:
    /// `GET /portfolio/balance [200 401 500] (3.28.0 get-balance.yaml)`;
    /// 3.13 operations that a 3.28 page also defines are marked `shadowed`.
    pub fn operations(&self) -> Vec<String> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for doc in &self.openapi {
            let paths = doc.value.get("paths").and_then(Value::as_object);
            for (path, item) in paths.into_iter().flatten() {
                for method in METHODS {
                    let Some(op) = item.get(method) else { continue };
                    let statuses: Vec<&str> = op
                        .get("responses")
                        .and_then(Value::as_object)
                        .map(|r| r.keys().map(String::as_str).collect())
                        .unwrap_or_default();
                    let first = seen.insert((method, path.clone()));
                    out.push(format!(
                        "{} {path} [{}] ({}){}",
                        method.to_uppercase(),
                        statuses.join(" "),
                        doc.label,
                        if first { "" } else { " shadowed" }
                    ));
                }
            }
        }
        out
    }

    /// What loading changed or noticed: 3.13 schemas replaced by 3.28 ones,
    /// errata applied.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The examples the spec gives for the response schema of an operation:
    /// on the media type, and on every schema reachable from it (following
    /// `$ref`s), each with the schema it is an example of.
    pub fn response_examples(
        &self,
        method: &str,
        path_template: &str,
        status: u16,
    ) -> Result<Vec<Example>, String> {
        let (doc, pointer) = self.response_schema(method, path_template, status)?;
        Ok(examples_from(doc, &pointer))
    }

    /// As [`Specs::response_examples`], for the request body.
    pub fn request_examples(
        &self,
        method: &str,
        path_template: &str,
    ) -> Result<Vec<Example>, String> {
        let (doc, pointer) = self.request_schema(method, path_template)?;
        Ok(examples_from(doc, &pointer))
    }

    /// Validates a spec example against the schema that carries it.
    pub fn check_example(&self, example: &Example) -> Result<(), String> {
        let what = format!("example at {}", example.location);
        self.check(
            example.draft,
            &example.uri,
            &example.pointer,
            &example.value,
            &what,
        )
    }

    /// The `required` list of a named component schema, looked up like an
    /// operation: 3.28 pages first, then 3.13 (for the log and for building
    /// bodies by hand).
    pub fn required_fields(&self, schema: &str) -> Option<Vec<String>> {
        let pointer = format!("/components/schemas/{}", escape_token(schema));
        self.openapi
            .iter()
            .chain(std::iter::once(&self.asyncapi))
            .find_map(|doc| doc.value.pointer(&pointer))
            .map(|s| {
                s.get("required")
                    .and_then(Value::as_array)
                    .map(|r| {
                        r.iter()
                            .filter_map(|v| v.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default()
            })
    }

    // --- lookup ---------------------------------------------------------

    /// The operation object and its pointer, in every document that has it,
    /// in search order.
    fn operations_for(&self, method: &str, path_template: &str) -> Vec<Operation<'_>> {
        let method = method.to_lowercase();
        let path = normalize_path(path_template);
        let pointer = format!("/paths/{}/{method}", escape_token(&path));
        self.openapi
            .iter()
            .filter_map(|doc| {
                doc.value
                    .pointer(&pointer)
                    .map(|op| (doc, op, pointer.clone()))
            })
            .collect()
    }

    fn response_schema(
        &self,
        method: &str,
        path_template: &str,
        status: u16,
    ) -> Result<(&Doc, String), String> {
        let (op_name, found) = self.operations_named(method, path_template)?;
        let code = status.to_string();
        let range = format!("{}XX", status / 100);
        let mut documented = Vec::new();
        for (doc, op, op_pointer) in found {
            let Some(responses) = op.get("responses").and_then(Value::as_object) else {
                continue;
            };
            let Some(key) = [code.as_str(), range.as_str(), "default"]
                .into_iter()
                .find(|k| responses.contains_key(*k))
            else {
                documented.push(format!(
                    "{}: {}",
                    doc.label,
                    responses.keys().cloned().collect::<Vec<_>>().join(" ")
                ));
                continue;
            };
            let start = format!("{op_pointer}/responses/{}", escape_token(key));
            let pointer = json_schema(doc, &start, &format!("{op_name} {status}"), "schema")?;
            return Ok((doc, pointer));
        }
        Err(format!(
            "{op_name}: status {status} is not documented ({})",
            documented.join("; ")
        ))
    }

    fn request_schema(&self, method: &str, path_template: &str) -> Result<(&Doc, String), String> {
        let (op_name, found) = self.operations_named(method, path_template)?;
        for (doc, op, op_pointer) in found {
            if op.get("requestBody").is_none() {
                continue;
            }
            let start = format!("{op_pointer}/requestBody");
            let pointer = json_schema(doc, &start, &op_name, "request schema")?;
            return Ok((doc, pointer));
        }
        Err(format!("{op_name} has no request body in any spec"))
    }

    /// The operations for `method` + `path_template` with the name errors
    /// use; an error when no spec has it.
    fn operations_named(
        &self,
        method: &str,
        path_template: &str,
    ) -> Result<(String, Vec<Operation<'_>>), String> {
        let found = self.operations_for(method, path_template);
        let op_name = format!(
            "{} {}",
            method.to_uppercase(),
            normalize_path(path_template)
        );
        if found.is_empty() {
            return Err(format!(
                "{op_name} is in no spec (searched {})",
                self.searched()
            ));
        }
        Ok((op_name, found))
    }

    fn searched(&self) -> String {
        format!(
            "{} documents under {}",
            self.openapi.len(),
            self.dir.display()
        )
    }

    // --- validation -----------------------------------------------------

    fn validator(&self, draft: Draft, uri: &str, pointer: &str) -> Result<Arc<Validator>, String> {
        let target = format!("{uri}#{}", encode_fragment(pointer));
        if let Some(found) = self.lock_cache().get(&target) {
            return Ok(Arc::clone(found));
        }
        let registry = if draft == Draft::Draft4 {
            &self.openapi_registry
        } else {
            &self.asyncapi_registry
        };
        let validator = jsonschema::options()
            .with_draft(draft)
            .with_registry(registry.clone())
            .should_validate_formats(true)
            .should_ignore_unknown_formats(true)
            .with_format("uuid", is_uuid)
            .build(&json!({ "$ref": target }))
            .map_err(|e| format!("cannot compile the schema at {target}: {e}"))?;
        let validator = Arc::new(validator);
        self.lock_cache().insert(target, Arc::clone(&validator));
        Ok(validator)
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Validator>>> {
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn violations(
        &self,
        draft: Draft,
        uri: &str,
        pointer: &str,
        value: &Value,
    ) -> Result<Vec<String>, String> {
        let validator = self.validator(draft, uri, pointer)?;
        Ok(validator
            .iter_errors(value)
            .map(|error| {
                let mut lines = Vec::new();
                describe(&error, 1, &mut lines);
                lines.join("\n")
            })
            .collect())
    }

    fn check(
        &self,
        draft: Draft,
        uri: &str,
        pointer: &str,
        value: &Value,
        what: &str,
    ) -> Result<(), String> {
        let violations = self.violations(draft, uri, pointer, value)?;
        if violations.is_empty() {
            return Ok(());
        }
        Err(format!(
            "{what}: {} violation(s) of {}#{pointer}:\n{}\nbody: {}",
            violations.len(),
            uri,
            violations.join("\n"),
            brief(value)
        ))
    }

    fn check_any(&self, candidates: &[WsMessage], value: &Value, what: &str) -> Result<(), String> {
        let mut report = Vec::new();
        for message in candidates {
            let violations =
                self.violations(Draft::Draft7, &self.asyncapi.uri, &message.pointer, value)?;
            if violations.is_empty() {
                return Ok(());
            }
            report.push(format!(
                "  as {} (#{}): {} violation(s):\n{}",
                message.name,
                message.pointer,
                violations.len(),
                violations
                    .iter()
                    .flat_map(|v| v.lines())
                    .map(|line| format!("  {line}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ));
        }
        Err(format!(
            "{what} matches no AsyncAPI message:\n{}\nbody: {}",
            report.join("\n"),
            brief(value)
        ))
    }
}

// --- error text ----------------------------------------------------------

/// One line per violation (`at <instance pointer>: <message> [schema
/// <schema pointer>]`), with the branches of a failed `anyOf`/`oneOf`
/// indented below it.
fn describe(error: &ValidationError<'_>, depth: usize, out: &mut Vec<String>) {
    let at = match error.instance_path().as_str() {
        "" => "/",
        path => path,
    };
    let text = if error.instance().to_string().len() > 80 {
        error
            .masked_with(format!("{}…", brief(error.instance())))
            .to_string()
    } else {
        error.to_string()
    };
    out.push(format!(
        "{}at {at}: {text} [schema {}]",
        "  ".repeat(depth),
        error.schema_path().as_str()
    ));
    let branches = match error.kind() {
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            Some(context)
        }
        _ => None,
    };
    for (i, branch) in branches.into_iter().flatten().enumerate() {
        out.push(format!("{}branch {i}:", "  ".repeat(depth + 1)));
        for inner in branch {
            describe(inner, depth + 2, out);
        }
    }
}

/// The JSON text of `value`, cut to 200 characters.
fn brief(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= 200 {
        text
    } else {
        format!("{}…", text.chars().take(200).collect::<String>())
    }
}

// --- documents -----------------------------------------------------------

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn version_of(doc: &Value) -> String {
    doc.pointer("/info/version")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string()
}

fn read_yaml(path: &Path) -> Result<Value, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("read {}: {e}", path.display()))?;
    let yaml: serde_yaml::Value =
        serde_yaml::from_str(&text).map_err(|e| format!("parse {}: {e}", path.display()))?;
    Ok(yaml_to_json(yaml))
}

fn yaml_to_json(value: serde_yaml::Value) -> Value {
    use serde_yaml::Value as Y;
    match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map_or(Value::Null, Value::Number)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (yaml_key(k), yaml_to_json(v)))
                .collect::<Map<String, Value>>(),
        ),
        Y::Tagged(tagged) => yaml_to_json(tagged.value),
    }
}

fn yaml_key(key: serde_yaml::Value) -> String {
    match key {
        serde_yaml::Value::String(s) => s,
        other => match yaml_to_json(other) {
            Value::String(s) => s,
            Value::Null => "null".to_string(),
            v => v.to_string(),
        },
    }
}

/// Applies the `nullable` rule (see the module doc) everywhere except inside
/// `example`/`examples` values.
fn openapi_nullable(node: &mut Value) {
    match node {
        Value::Array(items) => items.iter_mut().for_each(openapi_nullable),
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if key != "example" && key != "examples" {
                    openapi_nullable(child);
                }
            }
            match map.get("nullable") {
                Some(Value::Bool(false)) => {
                    map.remove("nullable");
                }
                Some(Value::Bool(true)) => {
                    map.remove("nullable");
                    let composite = ["$ref", "allOf", "anyOf", "oneOf", "not"]
                        .iter()
                        .any(|k| map.contains_key(*k));
                    if composite {
                        let inner = std::mem::take(map);
                        map.insert(
                            "anyOf".to_string(),
                            json!([Value::Object(inner), { "type": "null" }]),
                        );
                        return;
                    }
                    match map.get_mut("type") {
                        Some(Value::String(t)) => {
                            let t = std::mem::take(t);
                            map.insert("type".to_string(), json!([t, "null"]));
                        }
                        Some(Value::Array(types)) if !types.iter().any(|t| t == "null") => {
                            types.push(json!("null"));
                        }
                        _ => {}
                    }
                    if let Some(Value::Array(options)) = map.get_mut("enum")
                        && !options.contains(&Value::Null)
                    {
                        options.push(Value::Null);
                    }
                }
                _ => {}
            }
        }
        _ => {}
    }
}

/// Widens the AsyncAPI ticker pattern (see the module doc); records where.
fn widen_ticker_pattern(node: &mut Value, at: &str, out: &mut Vec<String>) {
    match node {
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                widen_ticker_pattern(item, &format!("{at}/{i}"), out);
            }
        }
        Value::Object(map) => {
            if map.get("pattern").and_then(Value::as_str) == Some(TICKER_PATTERN_BAD) {
                map.insert("pattern".to_string(), json!(TICKER_PATTERN_FIXED));
                out.push(format!("#{at}"));
            }
            for (key, child) in map.iter_mut() {
                widen_ticker_pattern(child, &format!("{at}/{}", escape_token(key)), out);
            }
        }
        _ => {}
    }
}

type WsMap = BTreeMap<String, Vec<WsMessage>>;

/// Maps each `type` (server messages) and `cmd` (client commands) const or
/// enum value in the AsyncAPI message payloads to its messages.
fn ws_messages(doc: &Value) -> Result<(WsMap, WsMap), String> {
    let mut types = WsMap::new();
    let mut commands = WsMap::new();
    let mut places: Vec<(String, String)> = Vec::new();
    if let Some(messages) = doc
        .pointer("/components/messages")
        .and_then(Value::as_object)
    {
        for name in messages.keys() {
            places.push((
                name.clone(),
                format!("/components/messages/{}", escape_token(name)),
            ));
        }
    }
    // Messages written inline in channels rather than as component refs.
    if let Some(channels) = doc.get("channels").and_then(Value::as_object) {
        for (channel, item) in channels {
            let inline = item.get("messages").and_then(Value::as_object);
            for (name, message) in inline.into_iter().flatten() {
                if message.get("$ref").is_none() {
                    places.push((
                        format!("{channel}/{name}"),
                        format!(
                            "/channels/{}/messages/{}",
                            escape_token(channel),
                            escape_token(name)
                        ),
                    ));
                }
            }
        }
    }
    for (name, pointer) in places {
        let (message, pointer) = follow_refs(doc, &pointer)?;
        if message.get("payload").is_none() {
            continue;
        }
        let (payload, target) = follow_refs(doc, &format!("{pointer}/payload"))?;
        let examples: Vec<Value> = message
            .get("examples")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|e| e.get("payload").cloned())
                    .collect()
            })
            .unwrap_or_default();
        for (field, map) in [("type", &mut types), ("cmd", &mut commands)] {
            let Some(property) = payload.pointer(&format!("/properties/{field}")) else {
                continue;
            };
            let property = match property.get("$ref").and_then(Value::as_str) {
                Some(r) => follow_refs(doc, &decode_fragment(r.trim_start_matches('#')))?.0,
                None => property,
            };
            let mut values: Vec<&str> = Vec::new();
            if let Some(c) = property.get("const").and_then(Value::as_str) {
                values.push(c);
            }
            if let Some(options) = property.get("enum").and_then(Value::as_array) {
                values.extend(options.iter().filter_map(Value::as_str));
            }
            for value in values {
                let entry = map.entry(value.to_string()).or_default();
                // Several messages may share one payload schema
                // (the three update_subscription forms): keep one entry
                // with every name and example.
                if let Some(same) = entry.iter_mut().find(|m| m.pointer == target) {
                    same.examples.extend(examples.iter().cloned());
                    same.name = format!("{}+{name}", same.name);
                } else {
                    entry.push(WsMessage {
                        name: name.clone(),
                        pointer: target.clone(),
                        examples: examples.clone(),
                    });
                }
            }
        }
    }
    Ok((types, commands))
}

/// Follows local `$ref`s from the node at `pointer`; returns the final node
/// and its pointer.
fn follow_refs<'d>(doc: &'d Value, pointer: &str) -> Result<(&'d Value, String), String> {
    let mut pointer = pointer.to_string();
    for _ in 0..32 {
        let node = doc
            .pointer(&pointer)
            .ok_or_else(|| format!("dangling reference: #{pointer}"))?;
        match node.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let Some(local) = reference.strip_prefix('#') else {
                    return Err(format!("non-local $ref {reference} at #{pointer}"));
                };
                pointer = decode_fragment(local);
            }
            None => return Ok((node, pointer)),
        }
    }
    Err(format!("$ref loop at #{pointer}"))
}

/// Examples on the media type and on every schema reachable from the schema
/// at `pointer`.
fn examples_from(doc: &Doc, pointer: &str) -> Vec<Example> {
    let mut found = Vec::new();
    // The media type object holds the schema; OpenAPI allows `example` and
    // an `examples` map of `{value}` there.
    if let Some(media) = pointer
        .strip_suffix("/schema")
        .and_then(|m| doc.value.pointer(m))
    {
        if let Some(example) = media.get("example") {
            found.push((pointer.to_string(), example.clone()));
        }
        if let Some(map) = media.get("examples").and_then(Value::as_object) {
            for named in map.values() {
                if let Some(value) = named.get("value") {
                    found.push((pointer.to_string(), value.clone()));
                }
            }
        }
    }
    let mut seen = HashSet::new();
    walk_examples(&doc.value, pointer.to_string(), &mut seen, &mut found);
    found
        .into_iter()
        .map(|(pointer, value)| Example {
            location: format!("{}#{pointer}", doc.label),
            value,
            draft: doc.draft,
            uri: doc.uri.clone(),
            pointer,
        })
        .collect()
}

fn walk_examples(
    doc: &Value,
    pointer: String,
    seen: &mut HashSet<String>,
    out: &mut Vec<(String, Value)>,
) {
    if !seen.insert(pointer.clone()) {
        return;
    }
    let Some(Value::Object(map)) = doc.pointer(&pointer) else {
        return;
    };
    if let Some(example) = map.get("example") {
        out.push((pointer.clone(), example.clone()));
    }
    if let Some(Value::Array(examples)) = map.get("examples") {
        for example in examples {
            out.push((pointer.clone(), example.clone()));
        }
    }
    if let Some(reference) = map.get("$ref").and_then(Value::as_str)
        && let Some(local) = reference.strip_prefix('#')
    {
        walk_examples(doc, decode_fragment(local), seen, out);
    }
    for key in ["properties", "patternProperties", "definitions"] {
        if let Some(Value::Object(children)) = map.get(key) {
            for name in children.keys() {
                walk_examples(
                    doc,
                    format!("{pointer}/{key}/{}", escape_token(name)),
                    seen,
                    out,
                );
            }
        }
    }
    for key in [
        "items",
        "additionalProperties",
        "additionalItems",
        "not",
        "contains",
        "if",
        "then",
        "else",
    ] {
        match map.get(key) {
            Some(Value::Object(_)) => walk_examples(doc, format!("{pointer}/{key}"), seen, out),
            Some(Value::Array(list)) => {
                for i in 0..list.len() {
                    walk_examples(doc, format!("{pointer}/{key}/{i}"), seen, out);
                }
            }
            _ => {}
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(list)) = map.get(key) {
            for i in 0..list.len() {
                walk_examples(doc, format!("{pointer}/{key}/{i}"), seen, out);
            }
        }
    }
}

// --- small helpers -------------------------------------------------------

/// A path template as the spec writes it: without the server base and query.
fn normalize_path(path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    let path = path.strip_prefix(SERVER_BASE).unwrap_or(path);
    if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    }
}

/// One JSON pointer token.
fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// A JSON pointer made safe for a URI fragment.
fn encode_fragment(pointer: &str) -> String {
    let mut out = String::with_capacity(pointer.len());
    for byte in pointer.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A URI fragment back to a JSON pointer (undoing `%XX`).
fn decode_fragment(fragment: &str) -> String {
    let bytes = fragment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(byte) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// RFC 4122 textual form: 8-4-4-4-12 hex digits.
fn is_uuid(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// Follows the refs from `start` (a response or a request body) in `doc`
/// to the pointer of its JSON schema; `what` and `kind` name it in the error.
fn json_schema(doc: &Doc, start: &str, what: &str, kind: &str) -> Result<String, String> {
    let (body, pointer) = follow_refs(&doc.value, start)?;
    let media = format!("/content/{}/schema", escape_token(JSON_MEDIA));
    if body.pointer(&media).is_none() {
        return Err(format!(
            "{what} ({}) documents no {JSON_MEDIA} {kind}",
            doc.label
        ));
    }
    Ok(format!("{pointer}{media}"))
}

/// An operation found in a spec: its document, its object and its pointer.
type Operation<'a> = (&'a Doc, &'a Value, String);
