//! Replays every file of every fuzz corpus (`fuzz/corpus/<target>/`)
//! through its target body in `ironicmdns::fuzzing`, on stable: the
//! regression files of crashes found so far, and the seeds from real
//! captures. `scripts/fuzz.sh` runs the same bodies under libFuzzer. The
//! bodies exist with the cargo feature `fuzzing`, which the crate's
//! dev-dependency on itself turns on for every `cargo test`.

use std::path::Path;
use std::time::Instant;

use ironicmdns::fuzzing::TARGETS;

#[test]
fn every_corpus_file_replays_without_a_violated_invariant() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let mut total = 0;
    for (name, body) in TARGETS {
        let dir = root.join(name);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()))
            .map(|e| e.expect("corpus entry").path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        let t0 = Instant::now();
        for f in &files {
            let data = std::fs::read(f).expect("corpus file");
            let r = std::panic::catch_unwind(|| body(&data));
            assert!(r.is_ok(), "target {name}: {} fails", f.display());
        }
        println!(
            "fuzz corpus {name}: replayed {} files in {:.2?}",
            files.len(),
            t0.elapsed()
        );
        assert!(!files.is_empty(), "corpus of {name} is empty");
        total += files.len();
    }
    println!(
        "fuzz corpus: replayed {total} files over {} targets",
        TARGETS.len()
    );
}
