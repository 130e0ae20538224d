//! Run-time machinery below the tensors: the storage pool ([`Storage`], scratch buffers) and
//! the threads that run the kernels' batch chunks. Depends only on [`crate::element`].

#[cfg(feature = "std")]
mod pool;
#[cfg(feature = "std")]
mod threads;
#[cfg(not(feature = "std"))]
mod view;
#[cfg(feature = "std")]
mod workers;

#[cfg(feature = "std")]
pub(crate) use pool::Scratch;
#[cfg(feature = "std")]
pub use pool::{Storage, release_buffers};
#[cfg(feature = "std")]
pub use threads::{CHUNKS, set_threads, threads};
#[cfg(feature = "std")]
pub(crate) use threads::{chunks, run_chunks, split_by_images};
#[cfg(not(feature = "std"))]
pub use view::Storage;
