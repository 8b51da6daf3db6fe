//! The binary's contract on bad configuration: exit non-zero before binding, with one line
//! that names the variable, the bad value and what is expected, and nothing written.

use crate::helpers::run_binary;

const VALID: &[(&str, &str)] = &[
    ("APP_ENV", "production"),
    ("SECRET_KEY", "0123456789abcdef0123456789abcdef"),
];

fn rejects(var: (&str, &str), expected_fragments: &[&str]) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut vars = VALID.to_vec();
    vars.retain(|(name, _)| *name != var.0);
    vars.push(var);
    let output = run_binary(dir.path(), &["serve"], &vars);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{var:?}: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{var:?}: expected one line, got {stderr}");
    for fragment in expected_fragments {
        assert!(
            lines[0].contains(fragment),
            "{var:?}: {fragment:?} missing from {stderr}"
        );
    }
    assert!(
        std::fs::read_dir(dir.path())
            .expect("read")
            .next()
            .is_none(),
        "{var:?}: something was written before the configuration was validated"
    );
}

#[test]
fn bad_work_overtime_is_rejected() {
    rejects(
        ("WORK_OVERTIME", "abc"),
        &["WORK_OVERTIME", "\"abc\"", "minutes"],
    );
}

#[test]
fn unknown_timezone_is_rejected() {
    rejects(
        ("TIMEZONE", "Mars/Base"),
        &["TIMEZONE", "Mars/Base", "IANA"],
    );
}

#[test]
fn out_of_range_port_is_rejected() {
    rejects(("PORT", "99999"), &["PORT", "99999", "1 and 65535"]);
}

#[test]
fn unsupported_database_url_is_rejected() {
    rejects(
        ("DATABASE_URL", "foo://x"),
        &["DATABASE_URL", "foo://x", "sqlite://", "postgres://"],
    );
}

#[test]
fn placeholder_secret_key_is_refused_in_production() {
    rejects(
        ("SECRET_KEY", "your-secret-key-here"),
        &["SECRET_KEY", "openssl rand -hex 32"],
    );
    rejects(
        ("SECRET_KEY", "your-secret-key-change-this"),
        &["SECRET_KEY", "openssl rand -hex 32"],
    );
    rejects(("SECRET_KEY", ""), &["SECRET_KEY", "openssl rand -hex 32"]);
}

#[test]
fn data_dir_that_cannot_be_created_is_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("blocker"), "a file, not a directory").expect("write");
    let mut vars = VALID.to_vec();
    vars.push(("DATA_DIR", "blocker/data"));
    let output = run_binary(dir.path(), &[], &vars);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("DATA_DIR=\"blocker/data\""), "{stderr}");
    assert!(stderr.contains("create"), "{stderr}");
}

#[test]
fn development_starts_without_secret_key() {
    // init-db runs the same validation as serve, then exits: proves the key is generated.
    let dir = tempfile::tempdir().expect("tempdir");
    let output = run_binary(dir.path(), &["init-db"], &[("APP_ENV", "development")]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("SECRET_KEY is not set"),
        "expected a warning, got {stdout}"
    );
}

#[test]
fn init_db_creates_the_database_and_is_idempotent() {
    let dir = tempfile::tempdir().expect("tempdir");
    for spelling in ["init-db", "init_db"] {
        let output = run_binary(dir.path(), &[spelling], VALID);
        assert!(
            output.status.success(),
            "{spelling}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    // On PostgreSQL the database is the server's, not a file.
    assert!(crate::helpers::on_postgres() || dir.path().join("data/attendance.db").exists());
    assert!(dir.path().join("logs").is_dir());
    assert!(dir.path().join("uploads").is_dir());
}

#[test]
fn original_sqlalchemy_database_url_is_understood() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut vars = VALID.to_vec();
    vars.push(("DATABASE_URL", "sqlite:///instance/legacy-style.db"));
    let output = run_binary(dir.path(), &["init-db"], &vars);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dir.path().join("instance/legacy-style.db").exists());
}

#[test]
fn version_and_help_describe_the_cli() {
    let dir = tempfile::tempdir().expect("tempdir");
    let version = run_binary(dir.path(), &["--version"], &[]);
    assert!(version.status.success());
    assert!(String::from_utf8_lossy(&version.stdout).contains(env!("CARGO_PKG_VERSION")));
    let help = run_binary(dir.path(), &["--help"], &[]);
    let help = String::from_utf8_lossy(&help.stdout);
    for command in ["serve", "init-db", "healthcheck", "import-legacy"] {
        assert!(
            help.contains(command),
            "{command} missing from --help: {help}"
        );
    }
}

#[test]
fn healthcheck_fails_when_nothing_listens() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = crate::helpers::free_port().to_string();
    let output = run_binary(
        dir.path(),
        &["healthcheck", "--timeout", "2"],
        &[("PORT", &port)],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unhealthy"));
}

#[test]
fn values_from_a_dot_env_file_are_validated_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join(".env"),
        "APP_ENV=production\nSECRET_KEY=0123456789abcdef0123456789abcdef\nWORK_OVERTIME=abc\n",
    )
    .expect("write .env");
    let output = run_binary(dir.path(), &["init-db"], &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("WORK_OVERTIME=\"abc\""), "{stderr}");
}

#[test]
fn a_dot_env_file_configures_the_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join(".env"),
        "APP_ENV=production\nSECRET_KEY=0123456789abcdef0123456789abcdef\nDATA_DIR=from-dotenv\n",
    )
    .expect("write .env");
    let output = run_binary(dir.path(), &["init-db"], &[]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dir.path().join("from-dotenv").is_dir());
    assert!(crate::helpers::on_postgres() || dir.path().join("from-dotenv/attendance.db").exists());
}
