//! A parallel loader: samples from a [`Source`] through a [`Pipeline`] into `f32` NCHW
//! batches, on worker threads, with bounded prefetch.

use std::collections::BTreeMap;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use ndarray::{Array2, Array3, Array4, Axis};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::pipeline::Pipeline;

/// Where samples come from: a grey `u8` image `(height, width)`, its mask (same size, 0 =
/// background) and what is known of it ([`Source::Meta`]: its file, original size, ...)
/// per index. Decoding happens here, on the loader's threads.
pub trait Source: Send + Sync + 'static {
    /// What a sample carries besides its pixels; handed to its [`Batch`] row unchanged, so
    /// that what the file said reaches the outputs without reading the file again.
    type Meta: Send + 'static;
    /// Why a sample does not load (a file that does not decode, say); becomes the source of
    /// [`Error::Load`].
    type Error: std::error::Error + Send + Sync + 'static;

    /// The number of samples.
    fn len(&self) -> usize;

    /// Whether there are no samples.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Loads sample `index` (`< len()`).
    ///
    /// # Errors
    /// Whatever keeps the sample from loading.
    fn load(&self, index: usize) -> std::result::Result<Loaded<Self::Meta>, Self::Error>;
}

/// A sample as a [`Source`] loads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded<M> {
    /// Grey image `(height, width)`.
    pub image: Array2<u8>,
    /// Mask of the same size, 0 = background.
    pub mask: Array2<u8>,
    /// What is known of the sample.
    pub meta: M,
}

/// Image and mask pairs held in memory (no metadata).
impl Source for Vec<(Array2<u8>, Array2<u8>)> {
    type Meta = ();
    type Error = Error;

    fn len(&self) -> usize {
        <[_]>::len(self)
    }

    fn load(&self, index: usize) -> Result<Loaded<()>> {
        let (image, mask) = self.get(index).cloned().ok_or(Error::NoSample {
            index,
            len: <[_]>::len(self),
        })?;
        Ok(Loaded {
            image,
            mask,
            meta: (),
        })
    }
}

/// What the loader does with a sample that fails to load or process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnError {
    /// The batch is an error naming the sample.
    #[default]
    Fail,
    /// The sample is left out of its batch and listed in [`Batch::skipped`].
    Skip,
}

/// Loader options.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoaderOptions {
    /// Samples per batch (the papers: 8).
    pub batch_size: usize,
    /// Worker threads; 0 = one per core.
    pub threads: usize,
    /// Batches loaded ahead of the consumer (at least 1): workers run at most `prefetch + 1`
    /// batches ahead of the last one handed over, and at most `prefetch` finished batches
    /// wait, so memory is bounded by about `2 prefetch + 2` batches whatever the dataset
    /// size.
    pub prefetch: usize,
    /// Shuffle the order every epoch (seeded).
    pub shuffle: bool,
    /// Leave out a last incomplete batch.
    pub drop_last: bool,
    /// Seed of the shuffling and the augmentations.
    pub seed: u64,
    /// Failing samples: error or skip.
    pub on_error: OnError,
}

impl Default for LoaderOptions {
    fn default() -> Self {
        Self {
            batch_size: 8,
            threads: 2,
            prefetch: 2,
            shuffle: true,
            drop_last: false,
            seed: 0,
            on_error: OnError::Fail,
        }
    }
}

/// One batch: `images` `(n, channels, height, width)`, `masks` `(n, 1, height, width)` in
/// `{0, 1}`, and the source index and metadata of each row.
#[derive(Debug, Clone)]
pub struct Batch<M = ()> {
    /// Network inputs, NCHW `f32`.
    pub images: Array4<f32>,
    /// Targets, N1HW `f32` in `{0, 1}`.
    pub masks: Array4<f32>,
    /// The source index of each row.
    pub indices: Vec<usize>,
    /// The [`Source::Meta`] of each row.
    pub metas: Vec<M>,
    /// Samples left out under [`OnError::Skip`]: their source index and why.
    pub skipped: Vec<(usize, Error)>,
}

/// Loads batches of a source through a pipeline. Batch contents depend only on the seed, the
/// epoch and the order, never on the thread count or timing: a sample's augmentation uses the
/// random stream of its position in the epoch.
///
/// ```
/// use ndarray::Array2;
/// use ptx_preproc::{Loader, LoaderOptions, Pipeline};
/// let samples: Vec<(Array2<u8>, Array2<u8>)> = (0..5)
///     .map(|i| (Array2::from_elem((64, 64), 10 * i as u8), Array2::zeros((64, 64))))
///     .collect();
/// let pipeline = Pipeline { size: Some((32, 32)), ..Pipeline::default() };
/// let options = LoaderOptions { batch_size: 2, ..LoaderOptions::default() };
/// let loader = Loader::new(samples, pipeline, options)?; // a Vec of pairs is a Source
/// let batches: Vec<_> = loader.epoch(0).collect::<Result<_, _>>()?;
/// assert_eq!(batches.len(), 3);
/// assert_eq!(batches[0].images.dim(), (2, 3, 32, 32));
/// assert_eq!(batches[2].masks.dim(), (1, 1, 32, 32));
/// # Ok::<(), ptx_preproc::Error>(())
/// ```
pub struct Loader<S: Source> {
    source: Arc<S>,
    pipeline: Arc<Pipeline>,
    options: LoaderOptions,
}

impl<S: Source> Loader<S> {
    /// A loader; checks the options and the pipeline's augmentation.
    pub fn new(source: S, pipeline: Pipeline, options: LoaderOptions) -> Result<Self> {
        for (name, value) in [
            ("loader.batch_size", options.batch_size),
            ("loader.prefetch", options.prefetch),
        ] {
            if value == 0 {
                return Err(Error::InvalidOption {
                    name,
                    value: "0".into(),
                    reason: "must be at least 1",
                });
            }
        }
        pipeline.augment.validate()?;
        Ok(Self {
            source: Arc::new(source),
            pipeline: Arc::new(pipeline),
            options,
        })
    }

    /// The source.
    pub fn source(&self) -> &S {
        &self.source
    }

    /// The options.
    pub fn options(&self) -> &LoaderOptions {
        &self.options
    }

    /// The number of batches of an epoch over `samples` samples.
    pub fn batch_count(&self, samples: usize) -> usize {
        let b = self.options.batch_size;
        if self.options.drop_last {
            samples / b
        } else {
            samples.div_ceil(b)
        }
    }

    /// The batches of epoch `epoch` over every sample (shuffled if the options say so).
    pub fn epoch(&self, epoch: usize) -> Batches<S::Meta> {
        let mut order: Vec<usize> = (0..self.source.len()).collect();
        if self.options.shuffle {
            let mut rng = ChaCha8Rng::seed_from_u64(self.options.seed);
            rng.set_stream(epoch as u64);
            order.shuffle(&mut rng);
        }
        self.epoch_with_order(epoch, order)
    }

    /// The batches of epoch `epoch` over `order` (source indices, repeats allowed: the output
    /// of a sampler such as [`WeightedSampler`](crate::WeightedSampler)), in that order.
    pub fn epoch_with_order(&self, epoch: usize, order: Vec<usize>) -> Batches<S::Meta> {
        let batches = self.batch_count(order.len());
        let b = self.options.batch_size;
        let used = (batches * b).min(order.len());
        // One copy of the order, shared by the workers and the assembling thread.
        let order: Arc<[usize]> = order.into();
        let (sender, receiver) = sync_channel(self.options.prefetch);
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                next: 0,
                limit: ((self.options.prefetch + 1) * b).min(used),
                done: BTreeMap::new(),
                stopped: false,
            }),
            changed: Condvar::new(),
        });
        let threads = match self.options.threads {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        };
        let workers: Vec<JoinHandle<()>> = (0..threads)
            .map(|_| {
                let shared = Arc::clone(&shared);
                let source = Arc::clone(&self.source);
                let pipeline = Arc::clone(&self.pipeline);
                let order = Arc::clone(&order);
                let seed = self.options.seed;
                std::thread::spawn(move || {
                    worker(&shared, &*source, &pipeline, &order[..used], seed, epoch)
                })
            })
            .collect();
        let options = self.options;
        let producer = std::thread::spawn(move || {
            for k in 0..batches {
                let positions = k * b..((k + 1) * b).min(used);
                let Some(rows) = shared.take(positions.clone()) else {
                    break;
                };
                let batch = assemble(rows, &order[positions], options.on_error);
                if sender.send(batch).is_err() {
                    break; // the consumer went away
                }
                shared.advance(b, used);
            }
            shared.stop();
            for w in workers {
                let _ = w.join();
            }
        });
        Batches {
            receiver,
            producer: Some(producer),
            remaining: batches,
        }
    }
}

/// What the workers and the assembling thread share.
struct Shared<M> {
    state: Mutex<State<M>>,
    changed: Condvar,
}

/// A processed sample: input, mask, metadata.
type Processed<M> = Result<(Array3<f32>, Array2<f32>, M)>;

struct State<M> {
    /// The next position a worker takes.
    next: usize,
    /// Positions below this may be started (the prefetch window).
    limit: usize,
    /// Finished positions not yet assembled.
    done: BTreeMap<usize, Processed<M>>,
    /// The epoch is over or abandoned.
    stopped: bool,
}

impl<M> Shared<M> {
    /// Waits for every position of a batch and takes them out; `None` once stopped.
    fn take(&self, positions: std::ops::Range<usize>) -> Option<Vec<Processed<M>>> {
        let mut state = self.state.lock().ok()?;
        loop {
            if state.stopped {
                return None;
            }
            if positions.clone().all(|p| state.done.contains_key(&p)) {
                return Some(positions.filter_map(|p| state.done.remove(&p)).collect());
            }
            state = self.changed.wait(state).ok()?;
        }
    }

    /// Lets the workers start one more batch (after one was handed over).
    fn advance(&self, b: usize, used: usize) {
        if let Ok(mut state) = self.state.lock() {
            state.limit = (state.limit + b).min(used);
        }
        self.changed.notify_all();
    }

    fn stop(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.stopped = true;
        }
        self.changed.notify_all();
    }
}

/// A worker: takes positions in order within the window and processes them.
fn worker<S: Source + ?Sized>(
    shared: &Shared<S::Meta>,
    source: &S,
    pipeline: &Pipeline,
    order: &[usize],
    seed: u64,
    epoch: usize,
) {
    loop {
        let position = {
            let Ok(mut state) = shared.state.lock() else {
                return;
            };
            loop {
                if state.stopped || state.next >= order.len() {
                    return;
                }
                if state.next < state.limit {
                    break;
                }
                state = match shared.changed.wait(state) {
                    Ok(s) => s,
                    Err(_) => return,
                };
            }
            state.next += 1;
            state.next - 1
        };
        let index = order[position];
        let result = load(source, index).and_then(|sample| {
            let (image, mask) = pipeline
                .process(
                    sample.image.view(),
                    sample.mask.view(),
                    seed,
                    stream(epoch, position),
                )
                .map_err(|e| Error::Load {
                    index: Some(index),
                    cause: Arc::new(e),
                })?;
            Ok((image, mask, sample.meta))
        });
        let Ok(mut state) = shared.state.lock() else {
            return;
        };
        state.done.insert(position, result);
        shared.changed.notify_all();
    }
}

/// The batches of one epoch, in order; each is loaded ahead on the loader's threads.
pub struct Batches<M = ()> {
    receiver: Receiver<Result<Batch<M>>>,
    producer: Option<JoinHandle<()>>,
    remaining: usize,
}

impl<M> Iterator for Batches<M> {
    type Item = Result<Batch<M>>;

    fn next(&mut self) -> Option<Result<Batch<M>>> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        match self.receiver.recv() {
            Ok(batch) => Some(batch),
            Err(_) => Some(Err(Error::LoaderStopped)),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<M> ExactSizeIterator for Batches<M> {}

impl<M> Drop for Batches<M> {
    fn drop(&mut self) {
        // Unblock the producer (its next send fails), then wait for it and its workers.
        let (_, dead) = sync_channel(1);
        drop(std::mem::replace(&mut self.receiver, dead));
        if let Some(producer) = self.producer.take() {
            let _ = producer.join();
        }
    }
}

/// The random stream of the sample at `position` of epoch `epoch`.
fn stream(epoch: usize, position: usize) -> u64 {
    ((epoch as u64) << 32) | position as u64
}

/// One batch from its processed samples (in order) and their source indices.
fn assemble<M>(rows: Vec<Processed<M>>, indices: &[usize], on_error: OnError) -> Result<Batch<M>> {
    let mut kept = Vec::with_capacity(rows.len());
    let mut kept_indices = Vec::with_capacity(rows.len());
    let mut skipped = Vec::new();
    for (result, &index) in rows.into_iter().zip(indices) {
        match (result, on_error) {
            (Ok(row), _) => {
                kept.push(row);
                kept_indices.push(index);
            }
            (Err(e), OnError::Skip) => skipped.push((index, e)),
            (Err(e), OnError::Fail) => return Err(e),
        }
    }
    stack(kept, kept_indices, skipped)
}

/// Loads one sample, naming it in the error.
fn load<S: Source + ?Sized>(source: &S, index: usize) -> Result<Loaded<S::Meta>> {
    source.load(index).map_err(|e| Error::Load {
        index: Some(index),
        cause: Arc::new(e),
    })
}

/// Stacks processed samples into NCHW arrays; all must have one shape.
fn stack<M>(
    rows: Vec<(Array3<f32>, Array2<f32>, M)>,
    indices: Vec<usize>,
    skipped: Vec<(usize, Error)>,
) -> Result<Batch<M>> {
    let (c, h, w) = rows.first().map(|(x, _, _)| x.dim()).unwrap_or((0, 0, 0));
    let mut images = Array4::zeros((rows.len(), c, h, w));
    let mut masks = Array4::zeros((rows.len(), 1, h, w));
    let mut metas = Vec::with_capacity(rows.len());
    for (k, ((image, mask, meta), &index)) in rows.into_iter().zip(&indices).enumerate() {
        if image.dim() != (c, h, w) {
            return Err(Error::Load {
                index: Some(index),
                cause: Arc::new(Error::ShapeMismatch {
                    what: "sample (the pipeline has no fixed size: set it)",
                    expected: (h, w),
                    found: (image.dim().1, image.dim().2),
                }),
            });
        }
        images.index_axis_mut(Axis(0), k).assign(&image);
        masks
            .index_axis_mut(Axis(0), k)
            .index_axis_mut(Axis(0), 0)
            .assign(&mask);
        metas.push(meta);
    }
    Ok(Batch {
        images,
        masks,
        indices,
        metas,
        skipped,
    })
}
