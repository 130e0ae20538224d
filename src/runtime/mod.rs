//! Run-time machinery below the tensors: the storage pool ([`Storage`], scratch buffers) and
//! the threads that run the kernels' batch chunks. Depends only on [`crate::element`].

mod pool;
mod threads;
mod workers;

pub(crate) use pool::Scratch;
pub use pool::{Storage, release_buffers};
pub use threads::{CHUNKS, set_threads, threads};
pub(crate) use threads::{chunks, run_chunks, split_by_images};
