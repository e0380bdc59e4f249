//! A flat byte trie over skill texts, with the best score of every subtree kept at its node.
//!
//! Nodes sit in one vector in breadth-first order and each node's outgoing edges are a
//! contiguous, byte-sorted run of one edge vector: a lookup touches a few cache lines and
//! allocates nothing, which matters because the decoder asks for every candidate token.

use crate::score::LogProb;

#[derive(Clone, Debug)]
struct Node {
    first_edge: u32,
    edge_count: u32,
    /// Best score of any skill that starts with this node's prefix.
    best: f32,
    /// Score of the skill that ends exactly here, or -inf.
    terminal: f32,
}

#[derive(Clone, Debug)]
pub struct SkillTrie {
    nodes: Vec<Node>,
    edge_bytes: Vec<u8>,
    edge_targets: Vec<u32>,
}

impl SkillTrie {
    /// Build from (skill text, score) pairs; a text given twice keeps its best score.
    pub fn build<'a>(skills: impl IntoIterator<Item = (&'a str, LogProb)>) -> Self {
        // A pointer-based tree first, then flattened breadth first.
        struct Tmp {
            children: Vec<(u8, usize)>,
            best: f32,
            terminal: f32,
        }
        let new = || Tmp { children: Vec::new(), best: f32::NEG_INFINITY, terminal: f32::NEG_INFINITY };
        let mut tmp = vec![new()];
        for (text, score) in skills {
            let s = score.value();
            let mut at = 0;
            tmp[at].best = tmp[at].best.max(s);
            for &b in text.as_bytes() {
                let next = match tmp[at].children.iter().find(|(c, _)| *c == b) {
                    Some(&(_, n)) => n,
                    None => {
                        tmp.push(new());
                        let n = tmp.len() - 1;
                        tmp[at].children.push((b, n));
                        n
                    }
                };
                at = next;
                tmp[at].best = tmp[at].best.max(s);
            }
            tmp[at].terminal = tmp[at].terminal.max(s);
        }
        let mut order = vec![0usize];
        let mut index_of = vec![0u32; tmp.len()];
        let mut i = 0;
        while i < order.len() {
            let n = order[i];
            index_of[n] = i as u32;
            let mut kids = tmp[n].children.clone();
            kids.sort_unstable_by_key(|(b, _)| *b);
            order.extend(kids.iter().map(|(_, c)| *c));
            i += 1;
        }
        let mut nodes = Vec::with_capacity(order.len());
        let mut edge_bytes = Vec::new();
        let mut edge_targets = Vec::new();
        for &n in &order {
            let mut kids = tmp[n].children.clone();
            kids.sort_unstable_by_key(|(b, _)| *b);
            nodes.push(Node {
                first_edge: edge_bytes.len() as u32,
                edge_count: kids.len() as u32,
                best: tmp[n].best,
                terminal: tmp[n].terminal,
            });
            for (b, c) in kids {
                edge_bytes.push(b);
                edge_targets.push(index_of[c]);
            }
        }
        Self { nodes, edge_bytes, edge_targets }
    }

    fn walk(&self, text: &str) -> Option<&Node> {
        let mut at = 0usize;
        for &b in text.as_bytes() {
            let node = &self.nodes[at];
            let lo = node.first_edge as usize;
            let hi = lo + node.edge_count as usize;
            let k = self.edge_bytes[lo..hi].binary_search(&b).ok()?;
            at = self.edge_targets[lo + k] as usize;
        }
        Some(&self.nodes[at])
    }

    /// Best score of any skill starting with `prefix`, or `None` if no skill does.
    pub fn best_completion(&self, prefix: &str) -> Option<LogProb> {
        self.walk(prefix).map(|n| LogProb::new(n.best)).filter(|p| !p.is_never())
    }

    /// Score of exactly this skill, or `None` if it is not one.
    pub fn exact(&self, skill: &str) -> Option<LogProb> {
        self.walk(skill).map(|n| LogProb::new(n.terminal)).filter(|p| !p.is_never())
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_take_their_best_completion() {
        let t = SkillTrie::build([
            ("pick up the red block", LogProb::from_prob(0.5)),
            ("pick up the blue block", LogProb::from_prob(0.9)),
            ("done", LogProb::CERTAIN),
        ]);
        let close = |a: Option<LogProb>, p: f64| (a.unwrap().prob() - p).abs() < 1e-6;
        assert!(close(t.best_completion(""), 1.0));
        assert!(close(t.best_completion("pick up the "), 0.9));
        assert!(close(t.best_completion("pick up the r"), 0.5));
        assert_eq!(t.best_completion("pick up the g"), None);
        assert!(close(t.exact("pick up the red block"), 0.5));
        assert_eq!(t.exact("pick up the red"), None);
        assert_eq!(t.exact("done please"), None);
    }
}
