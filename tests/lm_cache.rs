//! The KV cache: incremental decoding must give the logits of a full forward pass.

use grounded::default_model_dir;
use grounded::lm::{LanguageModel, Purpose, TokenId};

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

const TEXT: &str = "Instruction: put the blocks in the bowls with matching colours.\n1. pick up the red block and place it in the red bowl.\n2.";

#[test]
fn incremental_decoding_matches_a_full_forward_pass() {
    let mut lm = LanguageModel::load(&default_model_dir(), 1).expect("load the shipped model");
    let tokens = lm.encode(TEXT).unwrap();
    assert!(tokens.len() > 20);
    let (full, _) = lm.forward(lm.empty_cache(1).unwrap(), &tokens, Purpose::Prompt).unwrap();

    // Prefill half, then one token at a time, comparing at every position.
    let split = tokens.len() / 2;
    let (mut logits, mut cache) = lm.forward(lm.empty_cache(1).unwrap(), &tokens[..split], Purpose::Prompt).unwrap();
    let mut worst = max_abs_diff(logits.last(0).unwrap(), full.at(0, split - 1).unwrap());
    for (i, &t) in tokens.iter().enumerate().skip(split) {
        let (l, c) = lm.forward(cache, &[t], Purpose::Decode).unwrap();
        worst = worst.max(max_abs_diff(l.last(0).unwrap(), full.at(0, i).unwrap()));
        logits = l;
        cache = c;
    }
    assert_eq!(cache.len(), tokens.len());
    assert!(worst < 1e-4, "max abs logit difference {worst}");
    assert!(logits.last(0).unwrap().iter().all(|v| v.is_finite()));
}

#[test]
fn batched_rows_and_gathered_caches_match_single_rows() {
    let mut lm = LanguageModel::load(&default_model_dir(), 1).expect("load the shipped model");
    let prompt = lm.encode("Instruction: stack all the blocks.\n1.").unwrap();
    let (_, root) = lm.forward(lm.empty_cache(1).unwrap(), &prompt, Purpose::Prompt).unwrap();
    let a = lm.encode(" pick").unwrap()[0];
    let b = lm.encode(" done").unwrap()[0];
    // Three beams from one prompt row; then keep beams 2 and 0, in that order.
    let beams = root.gather(&[0, 0, 0]).unwrap();
    let (_, beams) = lm.forward(beams, &[a, b, a], Purpose::Decode).unwrap();
    let kept = beams.gather(&[1, 0]).unwrap();
    let next: Vec<TokenId> = lm.encode(".").unwrap();
    let (batched, _) = lm.forward(kept, &[next[0], next[0]], Purpose::Decode).unwrap();

    for (row, first) in [(0usize, b), (1, a)] {
        let mut seq = prompt.clone();
        seq.push(first);
        seq.push(next[0]);
        let (single, _) = lm.forward(lm.empty_cache(1).unwrap(), &seq, Purpose::Prompt).unwrap();
        let d = max_abs_diff(batched.last(row).unwrap(), single.last(0).unwrap());
        assert!(d < 1e-4, "row {row}: max abs difference {d}");
    }
    let stats = lm.stats();
    assert!(stats.forward_passes >= 5);
    assert_eq!(stats.decode_tokens, 3 + 2);
}

#[test]
fn permuting_rows_in_place_keeps_every_row_intact() {
    let mut lm = LanguageModel::load(&default_model_dir(), 1).expect("load the shipped model");
    let prompt = lm.encode("Instruction: pack the brown box.\n1.").unwrap();
    let (_, root) = lm.forward(lm.empty_cache(1).unwrap(), &prompt, Purpose::Prompt).unwrap();
    let firsts: Vec<TokenId> = [" pick", " done", " find"].iter().map(|t| lm.encode(t).unwrap()[0]).collect();
    let (_, three) = lm.forward(root.gather(&[0, 0, 0]).unwrap(), &firsts, Purpose::Decode).unwrap();
    // Same row count: row 0 takes row 2, rows 1 and 2 take row 0 (a cycle and a copy).
    let parents = [2usize, 0, 0];
    let permuted = three.gather(&parents).unwrap();
    let dot = lm.encode(".").unwrap()[0];
    let (batched, _) = lm.forward(permuted, &[dot, dot, dot], Purpose::Decode).unwrap();
    for (row, &p) in parents.iter().enumerate() {
        let mut seq = prompt.clone();
        seq.push(firsts[p]);
        seq.push(dot);
        let (single, _) = lm.forward(lm.empty_cache(1).unwrap(), &seq, Purpose::Prompt).unwrap();
        let d = max_abs_diff(batched.last(row).unwrap(), single.last(0).unwrap());
        assert!(d < 1e-4, "row {row} (from {p}): max abs difference {d}");
    }
}

#[test]
fn a_cut_cache_continues_exactly_as_an_eager_copy_of_its_prefix() {
    use grounded::lm::KvCache;
    use std::sync::Arc;
    let mut lm = LanguageModel::load(&default_model_dir(), 1).expect("load the shipped model");
    let tokens = lm.encode(TEXT).unwrap();
    let (_, ran) = lm.forward(lm.empty_cache(1).unwrap(), &tokens, Purpose::Prompt).unwrap();
    let bytes = ran.bytes().unwrap();
    let ran = Arc::new(ran);
    let next = lm.encode(" pick").unwrap()[0];
    for len in [0, 1, tokens.len() / 2, tokens.len() - 1, tokens.len()] {
        let cut = KvCache::cut(&ran, len).unwrap();
        assert_eq!((cut.rows(), cut.len()), (1, len));
        // The same continuation from the cut and from an eager copy of the prefix.
        let (from_cut, grown) = lm.forward_after(&cut, &[next], Purpose::Decode).unwrap();
        let (from_prefix, _) = lm.forward(ran.prefix(len).unwrap(), &[next], Purpose::Decode).unwrap();
        assert_eq!(from_cut.last(0).unwrap(), from_prefix.last(0).unwrap(), "cut to {len}");
        assert_eq!(grown.len(), len + 1);
        // Read again (the copy made once is kept), gathered and cut again: the same.
        let (again, _) = lm.forward_after(&cut, &[next], Purpose::Decode).unwrap();
        assert_eq!(again.last(0).unwrap(), from_cut.last(0).unwrap());
        let recut = KvCache::cut(&Arc::new(cut), len.saturating_sub(1)).unwrap();
        assert_eq!(recut.prefix(recut.len()).unwrap().len(), len.saturating_sub(1));
    }
    // A cut as long as its source is the source's own tensors; the source is untouched.
    let whole = KvCache::cut(&ran, tokens.len()).unwrap();
    assert_eq!(whole.bytes().unwrap(), bytes);
    assert_eq!(ran.bytes().unwrap(), bytes);
    let err = KvCache::cut(&ran, tokens.len() + 1).err().expect("a cut longer than its source is refused");
    assert!(err.to_string().contains("cut of"), "{err}");
}

#[test]
fn rows_read_in_place_continue_exactly_as_copies_of_them() {
    use grounded::lm::KvCache;
    use std::sync::Arc;
    let mut lm = LanguageModel::load(&default_model_dir(), 1).expect("load the shipped model");
    let prompt = lm.encode("Instruction: put the red block in the green bowl.\n1.").unwrap();
    let (_, root) = lm.forward(lm.empty_cache(1).unwrap(), &prompt, Purpose::Prompt).unwrap();
    let firsts: Vec<TokenId> = [" pick", " done", " find", " put"].iter().map(|t| lm.encode(t).unwrap()[0]).collect();
    let (_, four) = lm.forward(root.gather(&[0, 0, 0, 0]).unwrap(), &firsts, Purpose::Decode).unwrap();
    let row_bytes = four.bytes().unwrap() / 4;
    let four = Arc::new(four);
    let dot = lm.encode(".").unwrap()[0];
    // Each run of rows in order, read in place, against eager copies of the same rows.
    for (first, count) in [(0usize, 1usize), (3, 1), (1, 2), (0, 3), (1, 3), (0, 4)] {
        let view = KvCache::rows_of(&four, first, count).unwrap();
        assert_eq!((view.rows(), view.len(), view.bytes().unwrap()), (count, four.len(), count * row_bytes));
        let copy = (first..first + count).map(|r| four.row(r).unwrap()).collect::<Vec<_>>();
        let (from_view, grown) = lm.forward_after(&view, &vec![dot; count], Purpose::Decode).unwrap();
        assert_eq!((grown.rows(), grown.len()), (count, four.len() + 1));
        for (i, row) in copy.iter().enumerate() {
            let (from_copy, _) = lm.forward_after(row, &[dot], Purpose::Decode).unwrap();
            let d = max_abs_diff(from_view.last(i).unwrap(), from_copy.last(0).unwrap());
            assert!(d < 1e-4, "rows {first}..{}: row {i} differs by {d}", first + count);
        }
        // Rows of rows, a row, a prefix and a gather of the view are those of the batch.
        let view = Arc::new(view);
        let inner = KvCache::rows_of(&view, count - 1, 1).unwrap();
        let (a, _) = lm.forward_after(&inner, &[dot], Purpose::Decode).unwrap();
        let (b, _) = lm.forward_after(&four.row(first + count - 1).unwrap(), &[dot], Purpose::Decode).unwrap();
        assert_eq!(a.last(0).unwrap(), b.last(0).unwrap(), "the last row of rows {first}..{}", first + count);
        let (c, _) = lm.forward_after(&view.row(0).unwrap(), &[dot], Purpose::Decode).unwrap();
        let (d, _) = lm.forward_after(&four.row(first).unwrap(), &[dot], Purpose::Decode).unwrap();
        assert_eq!(c.last(0).unwrap(), d.last(0).unwrap());
        let half = four.len() / 2;
        let (e, _) = lm.forward_after(&view.prefix(half).unwrap(), &vec![dot; count], Purpose::Decode).unwrap();
        let (f, _) =
            lm.forward_after(&KvCache::rows_of(&Arc::new(four.prefix(half).unwrap()), first, count).unwrap(), &vec![dot; count], Purpose::Decode).unwrap();
        assert_eq!(e.last(count - 1).unwrap(), f.last(count - 1).unwrap());
        let reversed: Vec<usize> = (0..count).rev().collect();
        let (g, _) = lm.forward(KvCache::gather_shared(Arc::clone(&view), &reversed).unwrap(), &vec![dot; count], Purpose::Decode).unwrap();
        assert_eq!(g.last(0).unwrap(), from_view.last(count - 1).unwrap());
    }
    // The batch is untouched by reading its rows; rows past its end are refused.
    assert_eq!(four.bytes().unwrap(), 4 * row_bytes);
    for (first, count) in [(4usize, 1usize), (2, 3), (0, 0)] {
        let err = KvCache::rows_of(&four, first, count).err().expect("rows outside the batch are refused");
        assert!(err.to_string().contains("rows"), "{err}");
    }
}
