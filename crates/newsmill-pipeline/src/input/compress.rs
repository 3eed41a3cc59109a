//! Compressed inputs: gzip and zstd told by their first bytes, decoded with errors that name the input and the byte offset.

use super::*;

/// How a JSONL input is compressed, told by its first bytes (the extension only has to agree).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    /// gzip; several members one after the other (`cat a.gz b.gz`) are one stream.
    Gzip,
    /// Zstandard; several frames are one stream.
    Zstd,
}

pub(super) const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
pub(super) const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

/// A zstd skippable frame's magic number, 0x184D2A50..=0x184D2A5F (little-endian): `pzstd`
/// and seekable-format writers start their files with one; `zstd -d` skips it, and so does
/// the decoder.
pub(super) fn is_skippable_frame(head: &[u8]) -> bool {
    head.len() >= 4 && head[0] & 0xF0 == 0x50 && head[1..4] == [0x2A, 0x4D, 0x18]
}

impl Compression {
    /// From the first bytes of a stream.
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(GZIP_MAGIC) {
            Compression::Gzip
        } else if head.starts_with(ZSTD_MAGIC) || is_skippable_frame(head) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// From a file name: `.gz`, `.gzip`, `.zst`, `.zstd` in any case.
    pub fn of_name(p: &Path) -> Compression {
        let ext = p
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        match ext.as_deref() {
            Some("gz" | "gzip") => Compression::Gzip,
            Some("zst" | "zstd") => Compression::Zstd,
            _ => Compression::None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Compression::None => "plain",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// The compression of the file at `p`, by its first bytes (`None` if unreadable).
pub(super) fn compression_of_file(p: &Path) -> Compression {
    let mut head = [0u8; 4];
    let n = File::open(p)
        .and_then(|mut f| {
            let mut n = 0;
            while n < head.len() {
                match f.read(&mut head[n..])? {
                    0 => break,
                    k => n += k,
                }
            }
            Ok(n)
        })
        .unwrap_or(0);
    Compression::sniff(&head[..n])
}

/// A buffered reader that counts the bytes consumed from it: into its own position (the byte
/// offset named in decompression errors) and into the run's shared count (progress).
pub(super) struct Tracked<R> {
    inner: R,
    pos: Arc<AtomicU64>,
    total: BytesRead,
}

impl<R: BufRead> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos.fetch_add(n as u64, Ordering::Relaxed);
        self.total.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Tracked<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        self.inner.consume(amt);
        self.pos.fetch_add(amt as u64, Ordering::Relaxed);
        self.total.fetch_add(amt as u64, Ordering::Relaxed);
    }
}

/// A decompressor whose errors name the input, the format and the compressed byte offset the
/// decoder had reached (a corrupt or truncated stream is never a silent end of input).
pub(super) struct Decoded<R> {
    inner: R,
    name: String,
    format: Compression,
    pos: Arc<AtomicU64>,
    /// Decompressed bytes given out so far.
    out: u64,
}

impl<R: Read> Read for Decoded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.out += n as u64;
                Ok(n)
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                let kind = match e.kind() {
                    std::io::ErrorKind::UnexpectedEof => std::io::ErrorKind::UnexpectedEof,
                    _ => std::io::ErrorKind::InvalidData,
                };
                Err(std::io::Error::new(
                    kind,
                    format!(
                        "{}: corrupt or truncated {} stream at compressed byte {} (after {} decompressed bytes): {e}",
                        self.name,
                        self.format.as_str(),
                        self.pos.load(Ordering::Relaxed),
                        self.out
                    ),
                ))
            }
        }
    }
}

/// Opens a JSONL byte stream: probes its first read (a failure there is the whole input's),
/// tells its compression by its first bytes and decompresses it. A file named `.gz`/`.zst`
/// whose bytes are not of that format is refused rather than read as text.
pub(super) fn open_stream(
    raw: Box<dyn Read + Send>,
    name: &str,
    path: Option<&Path>,
    counter: BytesRead,
) -> std::io::Result<Box<dyn BufRead + Send>> {
    let pos = Arc::new(AtomicU64::new(0));
    let mut tracked = Tracked {
        inner: BufReader::with_capacity(1 << 16, raw),
        pos: pos.clone(),
        total: counter,
    };
    let head = probe_head(&mut tracked)?;
    let format = Compression::sniff(&head);
    let named = path.map_or(Compression::None, Compression::of_name);
    if named != Compression::None && format != named && !head.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "{name}: named as {} but its first bytes ({}) are not {} data",
                named.as_str(),
                head.iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<Vec<_>>()
                    .join(" "),
                named.as_str()
            ),
        ));
    }
    let decoder: Box<dyn Read + Send> = match format {
        Compression::None => return Ok(Box::new(tracked)),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(tracked)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(tracked).map_err(
            |e| {
                std::io::Error::new(
                    e.kind(),
                    format!("{name}: cannot start a zstd decoder: {e}"),
                )
            },
        )?),
    };
    let decoded = Decoded {
        inner: decoder,
        name: name.to_string(),
        format,
        pos,
        out: 0,
    };
    probe(BufReader::with_capacity(1 << 16, decoded))
        .map(|r| Box::new(r) as Box<dyn BufRead + Send>)
}

/// Fills the buffer once (see [`probe`]) and returns up to its first four bytes.
pub(super) fn probe_head<R: BufRead>(r: &mut R) -> std::io::Result<Vec<u8>> {
    loop {
        match r.fill_buf() {
            Ok(b) => return Ok(b[..b.len().min(4)].to_vec()),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Fills the reader's buffer once, so that a source whose very first read fails (stdin
/// redirected from a folder, a file that gives EIO) is an error of the whole input.
pub(super) fn probe<R: BufRead>(mut r: R) -> std::io::Result<R> {
    loop {
        match r.fill_buf() {
            Ok(_) => return Ok(r),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}
