//! The loaders on the real files shipped in `data/`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use typed_cnn::data::{Digits, Mnist};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
}

/// Counts from data/README.md.
const MNIST_TRAIN: [usize; 10] = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];
const MNIST_TEST: [usize; 10] = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];
const DIGITS: [usize; 10] = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180];

fn gunzip(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()).read_to_end(&mut out).unwrap();
    out
}

#[test]
fn mnist_gzip_and_raw() {
    let start = Instant::now();
    let (train, test) = Mnist::load(data_dir().join("mnist")).unwrap();
    println!("MNIST loaded in {:.2?}", start.elapsed());
    assert_eq!((train.len(), test.len()), (60_000, 10_000));
    assert_eq!(train.class_counts(), MNIST_TRAIN);
    assert_eq!(test.class_counts(), MNIST_TEST);
    assert_eq!(train.label(0), 5); // the well-known first MNIST digit
    for set in [&train, &test] {
        assert!(set.images().iter().all(|v| (0.0..=1.0).contains(v)));
        assert!(set.images().contains(&1.0) && set.images().contains(&0.0));
    }

    // The same files raw in a temporary directory; the label files keep their `.gz` name with
    // raw contents (gzip is detected by magic bytes, not by the name).
    let dir = std::env::temp_dir().join(format!("typed-cnn-mnist-raw-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for name in Mnist::FILES {
        let raw = gunzip(&data_dir().join("mnist").join(format!("{name}.gz")));
        let target = if name.contains("labels") { format!("{name}.gz") } else { name.to_string() };
        std::fs::write(dir.join(target), raw).unwrap();
    }
    let loaded = Mnist::load(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    let (raw_train, raw_test) = loaded.unwrap();
    assert!(raw_train == train && raw_test == test);
}

#[test]
fn digits() {
    let all = Digits::load(data_dir().join("digits").join("digits.csv.gz")).unwrap();
    assert_eq!(all.len(), 1797);
    assert_eq!(all.class_counts(), DIGITS);
    // The first line starts 0,0,5,13 and ends with the label 0; the second ends with 1.
    assert_eq!(&all.image(0)[..4], [0.0, 0.0, 5.0 / 16.0, 13.0 / 16.0]);
    assert_eq!((all.label(0), all.label(1)), (0, 1));
    assert!(all.images().iter().all(|v| (0.0..=1.0).contains(v)));
    let (train, test) = (all.subset(0..1500), all.subset(1500..1797));
    assert_eq!((train.len(), test.len()), (1500, 297));
    assert_eq!(test.image(0), all.image(1500));
}
