//! YAML text → [`Node`], built from yaml-rust2's events so every node keeps its line and
//! column. Anchors and aliases are resolved here, merge keys (`<<`) applied, local tags
//! (`!reset`, `!override`) kept, and a key written twice in one mapping is an error.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use indexmap::IndexMap;
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::node::{LoadError, Node, Pos, Scalar, Value};

/// Parses one compose file's text. An empty file is `null`; several documents are an error.
pub fn parse(file: &Path, text: &str) -> Result<Node, LoadError> {
    let mut b = Builder {
        parser: Parser::new_from_str(text),
        file: Arc::from(file),
        anchors: HashMap::new(),
        expanded: 0,
    };
    b.document()
}

struct Builder<'a> {
    parser: Parser<std::str::Chars<'a>>,
    file: Arc<Path>,
    /// Anchored nodes and their sizes (in nodes).
    anchors: HashMap<usize, (Node, usize)>,
    /// Nodes copied by aliases so far, bounded against alias bombs ("billion laughs").
    expanded: usize,
}

/// The most nodes aliases may copy in one file; real files stay far below.
const MAX_EXPANDED: usize = 1_000_000;

fn size(node: &Node) -> usize {
    1 + match &node.value {
        Value::Seq(items) => items.iter().map(size).sum(),
        Value::Map(m) => m.values().map(size).sum(),
        _ => 0,
    }
}

impl Builder<'_> {
    fn next(&mut self) -> Result<(Event, Marker), LoadError> {
        self.parser
            .next_token()
            .map_err(|e| LoadError::at_pos(Some(self.pos(e.marker())), e.info().to_string()))
    }

    fn pos(&self, m: &Marker) -> Pos {
        Pos {
            file: self.file.clone(),
            line: u32::try_from(m.line()).unwrap_or(u32::MAX),
            col: u32::try_from(m.col() + 1).unwrap_or(u32::MAX),
        }
    }

    fn document(&mut self) -> Result<Node, LoadError> {
        let mut root = None;
        loop {
            let (ev, mark) = self.next()?;
            match ev {
                Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
                Event::DocumentStart if root.is_some() => {
                    return Err(LoadError::at_pos(
                        Some(self.pos(&mark)),
                        "multiple YAML documents in one compose file are not supported",
                    ));
                }
                Event::DocumentStart => {
                    let (ev, mark) = self.next()?;
                    root = Some(self.node(ev, mark)?);
                }
                Event::StreamEnd => {
                    let pos = Pos {
                        file: self.file.clone(),
                        line: 0,
                        col: 0,
                    };
                    return Ok(root.unwrap_or_else(|| Node::new(Value::Null).with_pos(Some(pos))));
                }
                _ => {
                    return Err(LoadError::at_pos(
                        Some(self.pos(&mark)),
                        "unexpected YAML event",
                    ));
                }
            }
        }
    }

    fn node(&mut self, ev: Event, mark: Marker) -> Result<Node, LoadError> {
        let pos = Some(self.pos(&mark));
        let (node, anchor) = match ev {
            Event::Alias(id) => {
                let Some((node, n)) = self.anchors.get(&id) else {
                    return Err(LoadError::at_pos(
                        pos,
                        "alias to an anchor that is not defined",
                    ));
                };
                self.expanded += n;
                if self.expanded > MAX_EXPANDED {
                    return Err(LoadError::at_pos(
                        pos,
                        format!("aliases expand to more than {MAX_EXPANDED} nodes"),
                    ));
                }
                return Ok(node.clone());
            }
            Event::Scalar(text, style, anchor, tag) => (scalar(text, style, tag, pos), anchor),
            Event::SequenceStart(anchor, tag) => {
                let mut items = Vec::new();
                loop {
                    let (ev, mark) = self.next()?;
                    if matches!(ev, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(ev, mark)?);
                }
                (tagged(Value::Seq(items), tag, pos), anchor)
            }
            Event::MappingStart(anchor, tag) => {
                let map = self.mapping()?;
                (tagged(Value::Map(map), tag, pos), anchor)
            }
            _ => return Err(LoadError::at_pos(pos, "unexpected YAML event")),
        };
        if anchor > 0 {
            self.anchors.insert(anchor, (node.clone(), size(&node)));
        }
        Ok(node)
    }

    /// A mapping's entries; explicit keys win over merged ones wherever they are written.
    fn mapping(&mut self) -> Result<IndexMap<String, Node>, LoadError> {
        let mut out: IndexMap<String, Node> = IndexMap::new();
        let mut explicit: HashMap<String, u32> = HashMap::new();
        let mut merge_line = None;
        let mut merges = Vec::new();
        loop {
            let (ev, mark) = self.next()?;
            if matches!(ev, Event::MappingEnd) {
                break;
            }
            let key = self.node(ev, mark)?;
            let (vev, vmark) = self.next()?;
            let value = self.node(vev, vmark)?;
            let line = key.pos.as_ref().map_or(0, |p| p.line);
            let name = match &key.value {
                Value::Scalar(s) => s.text.clone(),
                Value::Null => "null".to_string(),
                _ => return Err(LoadError::at_pos(key.pos, "mapping keys must be scalars")),
            };
            let is_merge = matches!(&key.value, Value::Scalar(s) if !s.quoted && s.text == "<<");
            if let Some(first) = explicit
                .get(&name)
                .or(merge_line.as_ref().filter(|_| is_merge))
            {
                return Err(LoadError::at_pos(
                    key.pos,
                    format!("mapping key {name:?} already defined at line {first}"),
                ));
            }
            if is_merge {
                merge_line = Some(line);
                merges.push(value);
                continue;
            }
            explicit.insert(name.clone(), line);
            out.insert(name, value);
        }
        for value in merges {
            merge_into(&mut out, &explicit, value)?;
        }
        Ok(out)
    }
}

/// Applies `<<: *a` or `<<: [*a, *b]`: earlier sources win over later ones.
fn merge_into(
    out: &mut IndexMap<String, Node>,
    explicit: &HashMap<String, u32>,
    value: Node,
) -> Result<(), LoadError> {
    let sources = match value.value {
        Value::Map(m) => vec![m],
        Value::Seq(items) => {
            let mut maps = Vec::new();
            for item in items {
                match item.value {
                    Value::Map(m) => maps.push(m),
                    _ => {
                        return Err(LoadError::at_pos(
                            item.pos,
                            "map merge requires a mapping or a list of mappings",
                        ));
                    }
                }
            }
            maps
        }
        _ => {
            return Err(LoadError::at_pos(
                value.pos,
                "map merge requires a mapping or a list of mappings",
            ));
        }
    };
    let mut merged: IndexMap<String, Node> = IndexMap::new();
    for source in sources {
        for (k, v) in source {
            merged.entry(k).or_insert(v);
        }
    }
    for (k, v) in merged {
        if !explicit.contains_key(&k) {
            out.insert(k, v);
        }
    }
    Ok(())
}

fn scalar(text: String, style: TScalarStyle, tag: Option<Tag>, pos: Option<Pos>) -> Node {
    let plain = style == TScalarStyle::Plain;
    let is_str_tag = tag
        .as_ref()
        .is_some_and(|t| t.suffix == "str" && t.handle != "!");
    let local = local_tag(tag.as_ref());
    let value = if plain && !is_str_tag && is_null(&text) {
        Value::Null
    } else {
        Value::Scalar(Scalar {
            text,
            quoted: !plain || is_str_tag,
        })
    };
    Node {
        value,
        pos,
        tag: local,
    }
}

fn tagged(value: Value, tag: Option<Tag>, pos: Option<Pos>) -> Node {
    Node {
        value,
        pos,
        tag: local_tag(tag.as_ref()),
    }
}

/// `!reset` → `reset`; global tags (`!!str`) are not kept.
fn local_tag(tag: Option<&Tag>) -> Option<String> {
    tag.filter(|t| t.handle == "!").map(|t| t.suffix.clone())
}

fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Node, LoadError> {
        parse(Path::new("/p/compose.yaml"), text)
    }

    #[test]
    fn positions_and_quotes() {
        let n = p("services:\n  web:\n    image: \"nginx\"\n    ports: [80]\n").unwrap();
        let web = n.get("services").unwrap().get("web").unwrap();
        let image = web.get("image").unwrap();
        assert_eq!(image.as_str(), Some("nginx"));
        let pos = image.pos.clone().unwrap();
        assert_eq!((pos.line, pos.col), (3, 12));
        assert!(matches!(&image.value, Value::Scalar(s) if s.quoted));
        let port = &web.get("ports").unwrap();
        assert!(
            matches!(&port.value, Value::Seq(v) if matches!(&v[0].value, Value::Scalar(s) if !s.quoted))
        );
    }

    #[test]
    fn nulls_and_empty_file() {
        let n = p("a:\nb: ~\nc: 'null'\n").unwrap();
        assert!(n.get("a").unwrap().is_null());
        assert!(n.get("b").unwrap().is_null());
        assert_eq!(n.get("c").unwrap().as_str(), Some("null"));
        assert!(p("").unwrap().is_null());
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let text = "x-a: &a {image: a, user: u}\nx-b: &b {image: b, init: true}\n\
                    s1:\n  <<: *a\n  image: mine\ns2:\n  <<: [*a, *b]\ns3: *a\n";
        let n = p(text).unwrap();
        let s1 = n.get("s1").unwrap();
        assert_eq!(s1.get("image").unwrap().as_str(), Some("mine"));
        assert_eq!(s1.get("user").unwrap().as_str(), Some("u"));
        let s2 = n.get("s2").unwrap();
        assert_eq!(s2.get("image").unwrap().as_str(), Some("a"));
        assert_eq!(s2.get("init").unwrap().as_str(), Some("true"));
        assert_eq!(
            n.get("s3").unwrap().get("user").unwrap().as_str(),
            Some("u")
        );
    }

    #[test]
    fn explicit_key_before_merge_wins() {
        let n = p("b: &b {x: 1}\nm:\n  x: 2\n  <<: *b\n").unwrap();
        assert_eq!(n.get("m").unwrap().get("x").unwrap().as_str(), Some("2"));
    }

    #[test]
    fn local_tags_kept() {
        let n = p("a: !reset []\nb: !override {x: 1}\nc: !!str 3\n").unwrap();
        assert_eq!(n.get("a").unwrap().tag.as_deref(), Some("reset"));
        assert_eq!(n.get("b").unwrap().tag.as_deref(), Some("override"));
        let c = n.get("c").unwrap();
        assert!(c.tag.is_none());
        assert!(matches!(&c.value, Value::Scalar(s) if s.quoted));
    }

    #[test]
    fn duplicate_key_is_an_error_with_lines() {
        let e = p("services:\n  web:\n    image: a\n    image: b\n").unwrap_err();
        assert_eq!(e.message, "mapping key \"image\" already defined at line 3");
        assert_eq!(e.pos.unwrap().line, 4);
    }

    #[test]
    fn two_merge_keys_are_duplicates() {
        let e = p("a: &a {x: 1}\nm:\n  <<: *a\n  <<: *a\n").unwrap_err();
        assert_eq!(e.message, "mapping key \"<<\" already defined at line 3");
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let e = p(&text).unwrap_err();
        assert!(e.message.starts_with("aliases expand to more than"), "{e}");
    }

    #[test]
    fn scan_error_has_line() {
        let e = p("services:\n  web:\n\timage: a\n").unwrap_err();
        assert_eq!(e.pos.as_ref().unwrap().line, 3, "{e}");
    }

    #[test]
    fn several_documents_are_an_error() {
        let e = p("a: 1\n---\nb: 2\n").unwrap_err();
        assert!(e.message.contains("multiple"), "{e}");
    }
}
