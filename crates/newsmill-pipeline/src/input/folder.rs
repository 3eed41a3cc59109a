//! Folders of `.txt` files: one walk, read lazily.

use super::*;

/// `.txt`, in any case (`a.TXT` too): the files a folder input reads.
pub fn is_txt(p: &Path) -> bool {
    p.extension().is_some_and(|e| e.eq_ignore_ascii_case("txt"))
}

/// The folder walk: sorted by name at each level (so the whole listing is sorted by path),
/// symlinks followed with walkdir's loop detection (a link to an ancestor is reported, not
/// followed). The one walk of a folder input: the reader, its size and job estimates, the
/// input checks and the run record that `--resume` compares all list a folder with it.
pub fn walker(root: &Path) -> walkdir::WalkDir {
    walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
}

/// Reads a folder of `.txt` files (recursively, sorted by path; the extension in any case).
/// The id is the path relative to the folder without `.txt`; text that is not valid UTF-8 is
/// decoded with U+FFFD for each bad byte sequence, with a warning naming the first bad byte.
/// The folder is walked lazily. Symlinks are followed, but never into a loop; what cannot be
/// read (a subfolder, a file, a symlink loop, a `.txt` that is not a regular file such as a
/// FIFO) becomes an error record naming its path: non-regular files are never opened.
pub struct DirReader {
    root: PathBuf,
    walk: walkdir::IntoIter,
    seq: u64,
    stop: Option<&'static AtomicBool>,
    /// The folders being walked, by depth: an error while listing a folder's entries comes
    /// without a path (walkdir), at the depth of its entries.
    dirs: Vec<PathBuf>,
    /// Bytes read, for progress.
    counter: BytesRead,
}

impl DirReader {
    /// Fails when `root` itself cannot be listed.
    pub fn new(root: &Path) -> std::io::Result<Self> {
        std::fs::read_dir(root)?;
        Ok(DirReader {
            root: root.to_path_buf(),
            walk: walker(root).into_iter(),
            seq: 0,
            stop: None,
            dirs: Vec::new(),
            counter: BytesRead::default(),
        })
    }

    /// Adds the bytes of each file read to `counter`.
    pub fn with_counter(mut self, counter: BytesRead) -> Self {
        self.counter = counter;
        self
    }

    /// Ends the walk as soon as `stop` is raised.
    pub fn with_stop(mut self, stop: Option<&'static AtomicBool>) -> Self {
        self.stop = stop;
        self
    }

    fn id_of(&self, path: &Path, strip_ext: bool) -> String {
        let rel = path.strip_prefix(&self.root).unwrap_or(path);
        let rel = if strip_ext {
            rel.with_extension("")
        } else {
            rel.to_path_buf()
        };
        rel.to_string_lossy().replace('\\', "/")
    }

    fn bad(&mut self, path: &Path, strip_ext: bool, kind: ErrorKind, message: String) -> Item {
        let seq = self.seq;
        self.seq += 1;
        Err(BadRecord {
            seq,
            id: Some(self.id_of(path, strip_ext)),
            record: path.display().to_string(),
            kind,
            message,
        })
    }

    fn read(&mut self, path: &Path) -> Item {
        let mut bytes = Vec::new();
        match read_regular(path, &mut bytes) {
            Ok(true) => {}
            Ok(false) => {
                return self.bad(
                    path,
                    true,
                    ErrorKind::NotAFile,
                    "not a regular file (a FIFO, socket or device): not read".into(),
                )
            }
            Err(e) => return self.bad(path, true, ErrorKind::Io, e.to_string()),
        }
        self.counter
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        let seq = self.seq;
        self.seq += 1;
        let mut warnings = Vec::new();
        let text = match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                warnings.push(format!(
                    "not valid UTF-8 (first bad byte at byte {at}): each invalid sequence was replaced by U+FFFD"
                ));
                String::from_utf8_lossy(e.as_bytes()).into_owned()
            }
        };
        Ok(Article {
            seq,
            id: self.id_of(path, true),
            title: None,
            text,
            record: path.display().to_string(),
            warnings,
        })
    }
}

/// Reads `path` into `bytes` if it is a regular file; `Ok(false)` if it is not. It is opened
/// non-blocking (a FIFO does not wait for a writer) and checked on the open file, so a file
/// swapped for a FIFO after the listing is not read either.
pub(super) fn read_regular(path: &Path, bytes: &mut Vec<u8>) -> std::io::Result<bool> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    if !f.metadata()?.is_file() {
        return Ok(false);
    }
    f.read_to_end(bytes)?;
    Ok(true)
}

impl Iterator for DirReader {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        loop {
            if self.stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
                return None;
            }
            match self.walk.next()? {
                Ok(entry) => {
                    let path = entry.path();
                    if entry.file_type().is_dir() {
                        self.dirs.truncate(entry.depth());
                        self.dirs.push(path.to_path_buf());
                        continue;
                    }
                    if !is_txt(path) {
                        continue;
                    }
                    let path = path.to_path_buf();
                    if entry.file_type().is_file() {
                        return Some(self.read(&path));
                    }
                    return Some(self.bad(
                        &path,
                        true,
                        ErrorKind::NotAFile,
                        "not a regular file (a FIFO, socket or device): not read".into(),
                    ));
                }
                Err(e) => {
                    let Some(path) = e.path().map(Path::to_path_buf) else {
                        // reading the entries of a folder that could be opened failed
                        let folder = e.depth().checked_sub(1).and_then(|d| self.dirs.get(d));
                        let Some(folder) = folder.cloned() else {
                            continue;
                        };
                        let msg = format!("cannot read folder: {e}");
                        return Some(self.bad(&folder, false, ErrorKind::Io, msg));
                    };
                    if let Some(ancestor) = e.loop_ancestor() {
                        let msg = format!(
                            "symlink loop: leads back to {}; not followed",
                            ancestor.display()
                        );
                        return Some(self.bad(&path, false, ErrorKind::SymlinkLoop, msg));
                    }
                    let reason = e
                        .io_error()
                        .map_or_else(|| e.to_string(), ToString::to_string);
                    if std::fs::metadata(&path).is_ok_and(|m| m.is_dir()) {
                        let msg = format!("cannot read folder: {reason}");
                        return Some(self.bad(&path, false, ErrorKind::Io, msg));
                    }
                    if is_txt(&path) {
                        return Some(self.bad(&path, true, ErrorKind::Io, reason));
                    }
                    // an unreadable entry that would not have been read anyway (a broken
                    // link named x.md): nothing to report
                }
            }
        }
    }
}
