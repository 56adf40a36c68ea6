//! JSON Schema → GBNF (llama.cpp grammar) for the subset of JSON Schema tarjim's prompts use.
//!
//! llama-cpp-2 only exposes llama.cpp's own converter behind its `common` feature, which pulls
//! in llama.cpp's `common` library (chat templates, nlohmann-json, …) and adds minutes to a
//! 2-core build. The schemas we send are small and regular, so a ~200-line converter is the
//! cheaper dependency. Supported: `type` object (`properties`, `required`), array (`items`,
//! `minItems`, `maxItems`: a bounded repetition), string, integer, number, boolean, null, type lists, `enum`, `const`,
//! `anyOf`/`oneOf`, and schemas without `type` (any JSON value). Unsupported keywords (`$ref`,
//! `pattern`, `format`, …) are errors rather than silently ignored, so a schema the grammar
//! cannot enforce is noticed. Objects never get extra properties; required properties come first,
//! then each optional one may follow, each group in the order serde_json's map yields them, which
//! is alphabetical unless the crate enables serde_json's `preserve_order` (it does not today, so a
//! schema listing `translation, countries` is emitted as `countries, translation`). An object
//! with no `required` list gets all its properties (still valid against the schema, and easier
//! for a small model).
//! Whitespace between tokens is bounded so the model cannot pad forever.

use std::collections::BTreeMap;

use serde_json::Value;

const PRELUDE: &str = r#"ws ::= | " " | "\n" [ \t]{0,20}
string ::= "\"" char* "\"" ws
char ::= [^"\\\x7F\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4})
integer ::= "-"? ([0-9] | [1-9] [0-9]{0,15}) ws
number ::= "-"? ([0-9] | [1-9] [0-9]{0,15}) ("." [0-9]{1,16})? ([eE] [-+]? [0-9]{1,3})? ws
boolean ::= ("true" | "false") ws
null ::= "null" ws
value ::= object-any | array-any | string | number | boolean | null
object-any ::= "{" ws ( string ":" ws value ( "," ws string ":" ws value )* )? "}" ws
array-any ::= "[" ws ( value ( "," ws value )* )? "]" ws
"#;

/// Keywords that carry no constraint we must enforce (annotations) or that we enforce by shape.
const IGNORED: &[&str] = &[
    "type",
    "properties",
    "required",
    "items",
    "enum",
    "const",
    "anyOf",
    "oneOf",
    "title",
    "description",
    "additionalProperties",
    "$schema",
    "$id",
    "minItems",
    "maxItems",
    "default",
    "examples",
    "strict",
];

/// Convert `schema` to a GBNF grammar whose start rule is `root`.
pub fn json_schema_to_gbnf(schema: &Value) -> Result<String, String> {
    let mut conv = Converter::default();
    let root = conv.visit(schema, "root")?;
    let mut out = format!("root ::= {root}\n");
    out.push_str(PRELUDE);
    for (name, body) in &conv.rules {
        out.push_str(&format!("{name} ::= {body}\n"));
    }
    Ok(out)
}

#[derive(Default)]
struct Converter {
    rules: BTreeMap<String, String>,
}

impl Converter {
    /// Add a rule named after `hint` (made unique) and return its name.
    fn add_rule(&mut self, hint: &str, body: String) -> String {
        let base: String = hint
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let base = if base.is_empty() {
            "r".to_string()
        } else {
            base
        };
        let mut name = format!("{base}-r");
        let mut n = 1;
        while self.rules.contains_key(&name) {
            n += 1;
            name = format!("{base}-r{n}");
        }
        self.rules.insert(name.clone(), body);
        name
    }

    /// The grammar expression (a rule name or an inline group) for `schema`.
    fn visit(&mut self, schema: &Value, path: &str) -> Result<String, String> {
        let obj = match schema {
            Value::Bool(true) => return Ok("value".into()),
            Value::Object(obj) => obj,
            other => return Err(format!("{path}: unsupported schema {other}")),
        };
        if let Some(key) = obj.keys().find(|k| !IGNORED.contains(&k.as_str())) {
            return Err(format!(
                "{path}: JSON Schema keyword `{key}` is not supported"
            ));
        }
        if let Some(value) = obj.get("const") {
            return Ok(format!("{} ws", literal(&value.to_string())));
        }
        if let Some(values) = obj.get("enum") {
            let values = values
                .as_array()
                .ok_or_else(|| format!("{path}: `enum` must be an array"))?;
            let alts: Vec<String> = values.iter().map(|v| literal(&v.to_string())).collect();
            return Ok(format!("( {} ) ws", alts.join(" | ")));
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(list) = obj.get(key) {
                let list = list
                    .as_array()
                    .ok_or_else(|| format!("{path}: `{key}` must be an array"))?;
                let alts = list
                    .iter()
                    .enumerate()
                    .map(|(i, s)| self.visit(s, &format!("{path}-{i}")))
                    .collect::<Result<Vec<_>, _>>()?;
                return Ok(format!("( {} )", alts.join(" | ")));
            }
        }
        match obj.get("type") {
            None if obj.contains_key("properties") => self.object(obj, path),
            None => Ok("value".into()),
            Some(Value::String(t)) => self.typed(t, obj, path),
            Some(Value::Array(types)) => {
                let alts = types
                    .iter()
                    .map(|t| match t {
                        Value::String(t) => self.typed(t, obj, path),
                        other => Err(format!("{path}: bad type {other}")),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(format!("( {} )", alts.join(" | ")))
            }
            Some(other) => Err(format!("{path}: bad type {other}")),
        }
    }

    fn typed(
        &mut self,
        t: &str,
        obj: &serde_json::Map<String, Value>,
        path: &str,
    ) -> Result<String, String> {
        match t {
            "object" => self.object(obj, path),
            "array" => self.array(obj, path),
            "string" | "integer" | "number" | "boolean" | "null" => Ok(t.to_string()),
            other => Err(format!("{path}: unsupported type `{other}`")),
        }
    }

    fn object(
        &mut self,
        obj: &serde_json::Map<String, Value>,
        path: &str,
    ) -> Result<String, String> {
        let empty = serde_json::Map::new();
        let props = match obj.get("properties") {
            Some(Value::Object(p)) => p,
            Some(_) => return Err(format!("{path}: `properties` must be an object")),
            None => &empty,
        };
        if props.is_empty() {
            return Ok("object-any".into());
        }
        let required: Vec<&str> = match obj.get("required") {
            Some(Value::Array(r)) => r.iter().filter_map(Value::as_str).collect(),
            Some(_) => return Err(format!("{path}: `required` must be an array")),
            None => props.keys().map(String::as_str).collect(),
        };
        if let Some(missing) = required.iter().find(|r| !props.contains_key(**r)) {
            return Err(format!(
                "{path}: required property `{missing}` has no schema"
            ));
        }
        let mut pairs = Vec::new();
        for (name, sub) in props {
            let value = self.visit(sub, &format!("{path}-{name}"))?;
            let pair = format!(
                "{} ws \":\" ws {value}",
                literal(&Value::from(name.as_str()).to_string())
            );
            pairs.push((required.contains(&name.as_str()), pair));
        }
        let mut body = String::from("\"{\" ws ");
        let mut first = true;
        for (_, pair) in pairs.iter().filter(|(req, _)| *req) {
            if !first {
                body.push_str("\",\" ws ");
            }
            body.push_str(pair);
            body.push(' ');
            first = false;
        }
        for (_, pair) in pairs.iter().filter(|(req, _)| !*req) {
            body.push_str(&format!("( \",\" ws {pair} )? "));
        }
        body.push_str("\"}\" ws");
        Ok(self.add_rule(path, body))
    }

    fn array(
        &mut self,
        obj: &serde_json::Map<String, Value>,
        path: &str,
    ) -> Result<String, String> {
        let item = match obj.get("items") {
            Some(items) => self.visit(items, &format!("{path}-item"))?,
            None => "value".into(),
        };
        let min = obj.get("minItems").and_then(Value::as_u64).unwrap_or(0);
        let max = obj.get("maxItems").and_then(Value::as_u64);
        if max.is_some_and(|max| max < min) {
            return Err(format!("{path}: maxItems is below minItems"));
        }
        if max == Some(0) {
            return Ok(self.add_rule(path, "\"[\" ws \"]\" ws".to_string()));
        }
        // The first item, then the rest as a bounded repetition of ", item".
        let rest_min = min.saturating_sub(1);
        let repeat = match max {
            None if rest_min == 0 => "*".to_string(),
            None => format!("{{{rest_min},}}"),
            Some(max) => format!("{{{rest_min},{}}}", max - 1),
        };
        let list = format!("{item} ( \",\" ws {item} ){repeat}");
        let body = if min >= 1 {
            format!("\"[\" ws {list} \"]\" ws")
        } else {
            format!("\"[\" ws ( {list} )? \"]\" ws")
        };
        Ok(self.add_rule(path, body))
    }
}

/// A GBNF double-quoted literal matching `text` exactly.
fn literal(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn converts_object_with_required_optional_array_enum() {
        let schema = json!({
            "type": "object",
            "properties": {
                "title": {"type": "string"},
                "points": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                "tone": {"enum": ["neutral", "alarming"]},
                "count": {"type": "integer"},
                "score": {"type": ["number", "null"]},
                "ok": {"type": "boolean"}
            },
            "required": ["title", "points", "tone"],
            "additionalProperties": false
        });
        let g = json_schema_to_gbnf(&schema).unwrap();
        assert!(g.starts_with("root ::= root-r\n"), "{g}");
        assert!(g.contains(r#""\"title\"" ws ":" ws string"#), "{g}");
        assert!(
            g.contains(r#"( "\"neutral\"" | "\"alarming\"" ) ws"#),
            "{g}"
        );
        assert!(
            g.contains(r#"( "," ws "\"count\"" ws ":" ws integer )?"#),
            "{g}"
        );
        assert!(g.contains("root-points-r ::= \"[\" ws string"), "{g}");
    }

    #[test]
    fn rejects_unsupported_keywords() {
        let err = json_schema_to_gbnf(&json!({"type": "string", "pattern": "a+"})).unwrap_err();
        assert!(err.contains("pattern"), "{err}");
        let err = json_schema_to_gbnf(&json!({"$ref": "#/defs/x"})).unwrap_err();
        assert!(err.contains("$ref"), "{err}");
    }

    #[test]
    fn array_bounds_are_enforced() {
        // Issue 9: minItems/maxItems were accepted and ignored, so a small model could list
        // entities until max_tokens ran out.
        let rule = |schema| {
            let g = json_schema_to_gbnf(&schema).unwrap();
            g.lines()
                .find(|line| line.starts_with("root-r ::="))
                .unwrap()
                .to_string()
        };
        let items = json!({"type": "integer"});
        assert_eq!(
            rule(json!({"type": "array", "items": items, "minItems": 2, "maxItems": 4})),
            r#"root-r ::= "[" ws integer ( "," ws integer ){1,3} "]" ws"#
        );
        assert_eq!(
            rule(json!({"type": "array", "items": items, "maxItems": 3})),
            r#"root-r ::= "[" ws ( integer ( "," ws integer ){0,2} )? "]" ws"#
        );
        assert_eq!(
            rule(json!({"type": "array", "items": items, "minItems": 3})),
            r#"root-r ::= "[" ws integer ( "," ws integer ){2,} "]" ws"#
        );
        assert_eq!(
            rule(json!({"type": "array", "items": items, "maxItems": 0})),
            r#"root-r ::= "[" ws "]" ws"#
        );
        let err = json_schema_to_gbnf(&json!({"type": "array", "minItems": 3, "maxItems": 1}))
            .unwrap_err();
        assert!(err.contains("maxItems is below minItems"), "{err}");
    }

    #[test]
    fn escapes_literals() {
        assert_eq!(literal("a\"b\\c\n"), r#""a\"b\\c\n""#);
    }
}
