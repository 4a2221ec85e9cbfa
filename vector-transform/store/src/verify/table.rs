//! Verifying one table: read its commit log, check every commit's range and head, check every data
//! file's rows (in [`super::rows`]), then link the rows of each chain and name the first break.

use super::*;

/// A row's place in a chain, as far as linking needs it (hashes truncated to 128 bits; the full
/// hash of every row is checked against its content while reading).
#[derive(Debug, Clone, Copy)]
pub(super) struct Link {
    pub(super) chain: u16,
    pub(super) seq: i64,
    pub(super) prev: [u8; 16],
    pub(super) hash: [u8; 16],
    pub(super) version: u32,
}

pub(super) fn short(hex_str: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    let mut full = [0u8; 32];
    if hex::decode_to_slice(hex_str, &mut full).is_ok() {
        out.copy_from_slice(&full[..16]);
    } else {
        // Not a hash at all: a digest of the text, so it will not match a real one.
        let d = <sha2::Sha256 as sha2::Digest>::digest(hex_str.as_bytes());
        out.copy_from_slice(&d[..16]);
        out[0] ^= 0xff;
    }
    out
}

pub(super) struct FileResult {
    pub(super) links: Vec<Link>,
    pub(super) problems: Vec<Problem>,
    pub(super) rows: u64,
}

/// Verifies one table whose root is `store`.
pub async fn verify_table(
    name: &str,
    store: Arc<dyn ObjectStore>,
    trusted: Option<&TrustedKeys>,
    progress: Progress<'_>,
) -> Result<TableReport, StoreError> {
    let root = Path::from("");
    let versions = list_versions(store.as_ref(), &root).await?;
    let mut problems = Vec::new();
    let mut entries: Vec<LogEntry> = Vec::with_capacity(versions.len());
    let mut expected = 0u64;
    for &v in &versions {
        if v != expected {
            problems.push(Problem {
                kind: ProblemKind::LogGap,
                version: Some(expected),
                chain_id: None,
                seq: None,
                key: None,
                file: None,
                detail: format!(
                    "commit files {expected}..{} are missing from the Delta log",
                    v - 1
                ),
            });
        }
        expected = v + 1;
        match read_commit(store.as_ref(), &root, v).await {
            Ok(e) => entries.push(e),
            Err(e) => problems.push(Problem {
                kind: ProblemKind::LogUnreadable,
                version: Some(v),
                chain_id: None,
                seq: None,
                key: None,
                file: None,
                detail: e.to_string(),
            }),
        }
    }

    // Chains, as the commits record them.
    let mut chain_ids: Vec<String> = Vec::new();
    let mut chain_index: HashMap<String, u16> = HashMap::new();
    let mut commits_by_chain: Vec<Vec<(u64, ChainCommit)>> = Vec::new();
    for e in &entries {
        if let Some(c) = &e.chain {
            let idx = *chain_index.entry(c.chain_id.clone()).or_insert_with(|| {
                chain_ids.push(c.chain_id.clone());
                commits_by_chain.push(Vec::new());
                (chain_ids.len() - 1) as u16
            });
            commits_by_chain[idx as usize].push((e.version, c.clone()));
        }
    }
    for (idx, commits) in commits_by_chain.iter().enumerate() {
        let mut next = 0i64;
        let mut head = GENESIS.to_owned();
        for (v, c) in commits {
            if c.first_seq != next || c.prev_head != head || c.last_seq - c.first_seq + 1 != c.rows
            {
                problems.push(Problem {
                    kind: ProblemKind::CommitOutOfOrder,
                    version: Some(*v),
                    chain_id: Some(chain_ids[idx].clone()),
                    seq: Some(c.first_seq),
                    key: None,
                    file: None,
                    detail: format!(
                        "commit {v} records rows {}..{} after head {}, but the writer's previous \
                         commit ended at row {} with head {}: a commit was removed, reordered or rewritten",
                        c.first_seq,
                        c.last_seq,
                        abbrev(&c.prev_head),
                        next - 1,
                        abbrev(&head)
                    ),
                });
            }
            next = c.last_seq + 1;
            head = c.head.clone();
            if let Some(keys) = trusted {
                check_signature(name, keys, *v, c, &mut problems);
            }
        }
    }

    // Live files and the commit that added each.
    let mut live: BTreeMap<String, (u64, Option<ChainCommit>, i64)> = BTreeMap::new();
    for e in &entries {
        for r in &e.removes {
            live.remove(r);
        }
        for a in &e.adds {
            live.insert(a.path.clone(), (e.version, e.chain.clone(), a.size));
        }
    }
    let mut files: Vec<(String, u64, Option<ChainCommit>)> =
        live.into_iter().map(|(p, (v, c, _))| (p, v, c)).collect();
    files.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));

    let key_column = std::sync::Mutex::new(None::<String>);
    let rows_done = std::sync::atomic::AtomicU64::new(0);
    let chain_index = Arc::new(chain_index);
    let results: Vec<FileResult> = futures::stream::iter(files.iter().cloned())
        .map(|(path, version, commit)| {
            let store = store.clone();
            let chain_index = chain_index.clone();
            let key_column = &key_column;
            let rows_done = &rows_done;
            async move {
                let r = check_file(
                    store,
                    &path,
                    version,
                    commit.as_ref(),
                    &chain_index,
                    key_column,
                )
                .await;
                let n = rows_done.fetch_add(r.rows, std::sync::atomic::Ordering::Relaxed) + r.rows;
                progress(name, n);
                r
            }
        })
        .buffer_unordered(2)
        .collect()
        .await;
    let key_column = key_column
        .into_inner()
        .ok()
        .flatten()
        .unwrap_or_else(|| "key".to_owned());

    let mut rows = 0u64;
    let mut links: Vec<Link> = Vec::new();
    for r in results {
        rows += r.rows;
        links.extend(r.links);
        problems.extend(r.problems);
    }
    links.sort_unstable_by_key(|l| (l.chain, l.seq));

    // Walk each chain.
    let mut need_key: HashSet<(u16, i64)> = HashSet::new();
    let mut chain_problems: Vec<(Problem, u16, i64)> = Vec::new();
    let mut i = 0;
    for (idx, commits) in commits_by_chain.iter().enumerate() {
        let idx = idx as u16;
        let version_of = |seq: i64| -> Option<u64> {
            let p = commits.partition_point(|(_, c)| c.last_seq < seq);
            commits
                .get(p)
                .filter(|(_, c)| c.first_seq <= seq)
                .map(|(v, _)| *v)
        };
        let heads: HashMap<i64, (u64, [u8; 16])> = commits
            .iter()
            .map(|(v, c)| (c.last_seq, (*v, short(&c.head))))
            .collect();
        let recorded_last = commits.last().map_or(-1, |(_, c)| c.last_seq);
        let mut expect_seq = 0i64;
        let mut prev_hash: [u8; 16] = short(GENESIS);
        let mut prev_seq: Option<i64> = None;
        while i < links.len() && links[i].chain < idx {
            i += 1;
        }
        let mut push = |kind, seq: i64, key_seq: i64, detail: String| {
            chain_problems.push((
                Problem {
                    kind,
                    version: version_of(seq),
                    chain_id: Some(chain_ids[idx as usize].clone()),
                    seq: Some(seq),
                    key: None,
                    file: None,
                    detail,
                },
                idx,
                key_seq,
            ));
        };
        while i < links.len() && links[i].chain == idx {
            let l = links[i];
            i += 1;
            if Some(l.seq) == prev_seq {
                push(
                    ProblemKind::RowDuplicated,
                    l.seq,
                    l.seq,
                    format!("two rows claim position {} of the chain", l.seq),
                );
                continue;
            }
            if l.seq > expect_seq {
                push(
                    ProblemKind::RowsMissing,
                    expect_seq,
                    l.seq,
                    if l.seq - expect_seq == 1 {
                        format!(
                            "the row at position {expect_seq} is missing (deleted); the next row points to it"
                        )
                    } else {
                        format!(
                            "rows at positions {expect_seq}..{} are missing (deleted); the next row points to them",
                            l.seq - 1
                        )
                    },
                );
            } else if l.prev != prev_hash {
                push(
                    ProblemKind::LinkBroken,
                    l.seq,
                    l.seq,
                    format!(
                        "the row's prev_hash is not the hash of the row before it (position {}): rows were reordered or replaced",
                        l.seq - 1
                    ),
                );
            }
            if let Some((v, head)) = heads.get(&l.seq)
                && *head != l.hash
            {
                push(
                    ProblemKind::HeadMismatch,
                    l.seq,
                    l.seq,
                    format!(
                        "commit {v} recorded a different chain head than the hash of its last row"
                    ),
                );
            }
            let _ = l.version;
            prev_hash = l.hash;
            prev_seq = Some(l.seq);
            expect_seq = l.seq + 1;
        }
        if expect_seq <= recorded_last {
            let last_present = prev_seq.unwrap_or(-1);
            push(
                ProblemKind::RowsMissing,
                expect_seq,
                last_present,
                format!(
                    "rows at positions {expect_seq}..{recorded_last} are missing (deleted) after the last row present{}",
                    if last_present >= 0 {
                        ""
                    } else {
                        " (there is none)"
                    }
                ),
            );
        }
    }
    for (_, idx, seq) in &chain_problems {
        if *seq >= 0 {
            need_key.insert((*idx, *seq));
        }
    }
    let keys = if need_key.is_empty() {
        HashMap::new()
    } else {
        resolve_keys(store.clone(), &files, &key_column, &chain_index, &need_key).await
    };
    for (mut p, idx, seq) in chain_problems {
        p.key = keys.get(&(idx, seq)).cloned();
        problems.push(p);
    }
    problems.sort_by(|a, b| {
        a.version
            .unwrap_or(u64::MAX)
            .cmp(&b.version.unwrap_or(u64::MAX))
            .then(a.seq.unwrap_or(i64::MAX).cmp(&b.seq.unwrap_or(i64::MAX)))
            .then(a.kind.cmp(&b.kind))
    });

    let chains = commits_by_chain
        .iter()
        .enumerate()
        .filter_map(|(idx, commits)| {
            let (v, last) = commits.last()?;
            Some(ChainSummary {
                chain_id: chain_ids[idx].clone(),
                rows: (last.last_seq + 1) as u64,
                commits: commits.len() as u64,
                head: last.head.clone(),
                last_version: *v,
                signed_commits: commits
                    .iter()
                    .filter(|(_, c)| c.signature.is_some())
                    .count() as u64,
                signed_heads: commits
                    .iter()
                    .filter_map(|(v, c)| {
                        Some(SignedHead {
                            version: *v,
                            key_id: c.key_id.clone()?,
                            signature: c.signature.clone()?,
                            message: head_message(name, c),
                        })
                    })
                    .collect(),
            })
        })
        .collect();
    Ok(TableReport {
        table: name.to_owned(),
        key_column,
        version: versions.last().copied(),
        rows,
        files: files.len() as u64,
        chains,
        problems,
        copies: Vec::new(),
    })
}

/// Checks one commit's signature against the trusted keys; a failure is a problem of that commit.
fn check_signature(
    table: &str,
    keys: &TrustedKeys,
    version: u64,
    c: &ChainCommit,
    problems: &mut Vec<Problem>,
) {
    let Err(p) = keys.check(table, c) else {
        return;
    };
    let (kind, detail) = match p {
        SignatureProblem::Unsigned => (
            ProblemKind::HeadUnsigned,
            format!(
                "commit {version} records chain head {} without a signature, and trusted keys were given",
                abbrev(&c.head)
            ),
        ),
        SignatureProblem::UntrustedKey(id) => (
            ProblemKind::HeadUntrustedKey,
            format!(
                "commit {version} is signed by key {id}, which is not among the trusted keys: \
                 rows {}..{} were written or rewritten by someone else",
                c.first_seq, c.last_seq
            ),
        ),
        SignatureProblem::Invalid(why) => (
            ProblemKind::HeadSignatureInvalid,
            format!("commit {version}: {why}"),
        ),
    };
    problems.push(Problem {
        kind,
        version: Some(version),
        chain_id: Some(c.chain_id.clone()),
        seq: Some(c.first_seq),
        key: None,
        file: None,
        detail,
    });
}

pub(super) fn abbrev(h: &str) -> String {
    h.chars().take(12).collect()
}
