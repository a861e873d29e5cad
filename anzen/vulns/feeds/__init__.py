"""Feed formats and readers for the CVE store.

- `readers`: files and directories (plain, gz, xz, zip), format detection, NVD `.meta` checks.
- `nvd11`, `nvd20`, `cve5`, `jvn`: one parser per format, each yielding `records.SourceRecord`s.
- `merge`: how a record from one source combines with what the store holds from the others (pure).
- `index`: the match index rows (`CveProduct`) derived from a CVE's merged state (pure).
- `fetch`: the NVD CVE API 2.0 and MyJVN API clients (rate limits, resume, incremental).
"""
