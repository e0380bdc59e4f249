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
    ///
    /// The texts are sorted once; then every node's children are the runs of texts that
    /// share the next byte, so the flat arrays are filled breadth first without building a
    /// pointer tree.
    pub fn build<'a>(skills: impl IntoIterator<Item = (&'a str, LogProb)>) -> Self {
        let mut items: Vec<(&[u8], f32)> = skills.into_iter().map(|(t, s)| (t.as_bytes(), s.value())).collect();
        items.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let best_of = |range: &[(&[u8], f32)]| range.iter().map(|i| i.1).fold(f32::NEG_INFINITY, f32::max);
        let mut nodes = vec![Node { first_edge: 0, edge_count: 0, best: best_of(&items), terminal: f32::NEG_INFINITY }];
        let mut edge_bytes = Vec::new();
        let mut edge_targets = Vec::new();
        // (node, range of items sharing its prefix, depth = prefix length), breadth first.
        let mut queue = std::collections::VecDeque::from([(0usize, 0usize, items.len(), 0usize)]);
        while let Some((node, lo, hi, depth)) = queue.pop_front() {
            // Texts that end here sort first.
            let mut i = lo;
            while i < hi && items[i].0.len() == depth {
                nodes[node].terminal = nodes[node].terminal.max(items[i].1);
                i += 1;
            }
            nodes[node].first_edge = edge_bytes.len() as u32;
            while i < hi {
                let byte = items[i].0[depth];
                let mut j = i;
                while j < hi && items[j].0[depth] == byte {
                    j += 1;
                }
                let child = nodes.len();
                nodes.push(Node { first_edge: 0, edge_count: 0, best: best_of(&items[i..j]), terminal: f32::NEG_INFINITY });
                edge_bytes.push(byte);
                edge_targets.push(child as u32);
                nodes[node].edge_count += 1;
                queue.push_back((child, i, j, depth + 1));
                i = j;
            }
        }
        Self { nodes, edge_bytes, edge_targets }
    }

    fn walk(&self, text: &str) -> Option<&Node> {
        self.walk_from(0, text.as_bytes()).map(|n| &self.nodes[n])
    }

    /// The node reached from node `at` along `bytes`, if any.
    pub fn walk_from(&self, at: usize, bytes: &[u8]) -> Option<usize> {
        let mut at = at;
        for &b in bytes {
            let node = &self.nodes[at];
            let lo = node.first_edge as usize;
            let hi = lo + node.edge_count as usize;
            let k = self.edge_bytes[lo..hi].binary_search(&b).ok()?;
            at = self.edge_targets[lo + k] as usize;
        }
        Some(at)
    }

    /// Best score below node `n` (see [`Self::best_completion`]).
    pub fn best_at(&self, n: usize) -> Option<LogProb> {
        Some(LogProb::new(self.nodes[n].best)).filter(|p| !p.is_never())
    }

    /// Score of the skill ending exactly at node `n` (see [`Self::exact`]).
    pub fn exact_at(&self, n: usize) -> Option<LogProb> {
        Some(LogProb::new(self.nodes[n].terminal)).filter(|p| !p.is_never())
    }

    /// Best score of any skill starting with `prefix`, or `None` if no skill does.
    pub fn best_completion(&self, prefix: &str) -> Option<LogProb> {
        self.walk(prefix).map(|n| LogProb::new(n.best)).filter(|p| !p.is_never())
    }

    /// Score of exactly this skill, or `None` if it is not one.
    pub fn exact(&self, skill: &str) -> Option<LogProb> {
        self.walk(skill).map(|n| LogProb::new(n.terminal)).filter(|p| !p.is_never())
    }

    /// The bytes every skill below node `n` goes on with while it has one way on (one edge
    /// and no skill ending on the way), and whether they end a skill: the one continuation
    /// the trie admits (jump-forward decoding reads it).
    pub fn only_way_on(&self, n: usize) -> (Vec<u8>, bool) {
        let mut at = n;
        let mut bytes = Vec::new();
        loop {
            let node = &self.nodes[at];
            if node.edge_count == 0 {
                return (bytes, node.terminal != f32::NEG_INFINITY);
            }
            if node.edge_count > 1 || node.terminal != f32::NEG_INFINITY {
                return (bytes, false);
            }
            let e = node.first_edge as usize;
            bytes.push(self.edge_bytes[e]);
            at = self.edge_targets[e] as usize;
        }
    }

    /// The words skills below node `n` go on with: the bytes up to (not including) the first
    /// space after the word's first byte, or to a skill's end, each once, with whether a skill
    /// ends right after it; subtrees whose skills all score never are left out, and no more
    /// than `limit` words are listed. The decoder offers the tokens that start them when the
    /// language model's likeliest tokens start none.
    pub fn next_words(&self, n: usize, limit: usize) -> Vec<(Vec<u8>, bool)> {
        let mut words = Vec::new();
        let mut stack = vec![(n, Vec::new())];
        while let Some((at, bytes)) = stack.pop() {
            if words.len() >= limit {
                break;
            }
            let node = &self.nodes[at];
            let edges = node.first_edge as usize..(node.first_edge + node.edge_count) as usize;
            let terminal = node.terminal != f32::NEG_INFINITY;
            let spaced = edges.clone().any(|e| self.edge_bytes[e] == b' ' && self.nodes[self.edge_targets[e] as usize].best != f32::NEG_INFINITY);
            if !bytes.is_empty() && (terminal || spaced) {
                words.push((bytes.clone(), terminal));
            }
            // Pushed in reverse, so that words come out in byte order.
            for e in edges.rev() {
                let (byte, child) = (self.edge_bytes[e], self.edge_targets[e] as usize);
                if self.nodes[child].best == f32::NEG_INFINITY || (byte == b' ' && !bytes.is_empty()) {
                    continue;
                }
                let mut longer = bytes.clone();
                longer.push(byte);
                stack.push((child, longer));
            }
        }
        words
    }

    /// Whether a skill ends exactly at node `n`.
    pub fn ends_at(&self, n: usize) -> bool {
        self.nodes[n].terminal != f32::NEG_INFINITY
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn agrees_with_brute_force(
            skills in proptest::collection::vec(("[ab ]{0,6}", 0.01f64..=1.0), 0..20),
            probes in proptest::collection::vec("[ab ]{0,7}", 1..20),
        ) {
            let t = SkillTrie::build(skills.iter().map(|(s, p)| (s.as_str(), LogProb::from_prob(*p))));
            for probe in &probes {
                let best = skills.iter().filter(|(s, _)| s.starts_with(probe.as_str())).map(|(_, p)| LogProb::from_prob(*p).value()).fold(None, |a: Option<f32>, v| Some(a.map_or(v, |a| a.max(v))));
                prop_assert_eq!(t.best_completion(probe).map(LogProb::value), best);
                let exact = skills.iter().filter(|(s, _)| s == probe).map(|(_, p)| LogProb::from_prob(*p).value()).fold(None, |a: Option<f32>, v| Some(a.map_or(v, |a| a.max(v))));
                prop_assert_eq!(t.exact(probe).map(LogProb::value), exact);
            }
        }
    }

    #[test]
    fn the_only_way_on_stops_where_skills_part_or_end() {
        let t = SkillTrie::build([
            ("pick up the red block and place it in the red bowl", LogProb::CERTAIN),
            ("pick up the red block and place it in the blue bowl", LogProb::CERTAIN),
            ("pick up the red", LogProb::CERTAIN),
            ("done", LogProb::CERTAIN),
        ]);
        let way = |p: &str| t.walk_from(0, p.as_bytes()).map(|n| t.only_way_on(n)).map(|(b, end)| (String::from_utf8(b).unwrap(), end));
        assert_eq!(way("pick up the red b"), Some(("lock and place it in the ".into(), false)));
        // A skill ends at "pick up the red": the way on stops there.
        assert_eq!(way("pick up th"), Some(("e red".into(), false)));
        assert_eq!(way("do"), Some(("ne".into(), true)));
        assert_eq!(way("done"), Some(("".into(), true)));
        assert_eq!(way(""), Some(("".into(), false)));
        assert_eq!(way("put"), None);
    }

    #[test]
    fn the_next_words_are_listed_once_up_to_the_next_space_or_a_skills_end() {
        let t = SkillTrie::build([
            ("pick up the red block and place it in the red bowl", LogProb::CERTAIN),
            ("pick up the red block and place it in the blue bowl", LogProb::CERTAIN),
            ("pick up the gray block", LogProb::CERTAIN),
            ("pick up the green block", LogProb::NEVER),
            ("pick up the red", LogProb::CERTAIN),
            ("done", LogProb::CERTAIN),
        ]);
        let words = |p: &str, limit: usize| {
            let n = t.walk_from(0, p.as_bytes()).unwrap();
            t.next_words(n, limit).into_iter().map(|(b, end)| (String::from_utf8(b).unwrap(), end)).collect::<Vec<_>>()
        };
        assert_eq!(words("", 10), [("done".to_string(), true), ("pick".to_string(), false)]);
        // The green block scores never: not offered.
        assert_eq!(words("pick up the", 10), [(" gray".to_string(), false), (" red".to_string(), true)]);
        assert_eq!(words("pick up the r", 10), [("ed".to_string(), true)]);
        assert_eq!(words("pick up the red block and place it in the", 10), [(" blue".to_string(), false), (" red".to_string(), false)]);
        assert_eq!(words("pick up the red block and place it in the red", 10), [(" bowl".to_string(), true)]);
        assert_eq!(words("pick up the", 1).len(), 1);
        assert!(t.next_words(t.walk_from(0, b"done").unwrap(), 10).is_empty());
        assert!(t.ends_at(t.walk_from(0, b"done").unwrap()));
    }

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
