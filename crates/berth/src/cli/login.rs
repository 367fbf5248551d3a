//! `login` and `logout`, as the docker CLI does them: the daemon checks the credentials
//! (`POST /auth`) and the client keeps them (a credential helper or `config.json`), with
//! docker's prompts, warnings and messages.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Read, Write};
use std::os::fd::AsFd;

use anyhow::{Result, bail};
use berth_client::{Client, ClientError};
use serde::Deserialize;

use super::registry_auth::{AuthConfig, ConfigFile, INDEX_SERVER, convert_to_hostname};

#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    /// The registry (default: Docker Hub).
    server: Option<String>,
    /// Username
    #[arg(short, long)]
    username: Option<String>,
    /// Password or Personal Access Token (PAT)
    #[arg(short, long)]
    password: Option<String>,
    /// Take the Password or Personal Access Token (PAT) from stdin
    #[arg(long)]
    password_stdin: bool,
}

#[derive(Debug, clap::Args)]
pub struct LogoutArgs {
    /// The registry (default: Docker Hub).
    server: Option<String>,
}

const REGISTER_SUGGEST: &str = "Log in with your Docker ID or email address to push and pull images from Docker Hub. If you don't have a Docker ID, head over to https://hub.docker.com/ to create one.";
const PAT_SUGGEST: &str = "You can log in with your password or a Personal Access Token (PAT). Using a limited-scope PAT grants better security and is required for organizations using SSO. Learn more at https://docs.docker.com/go/access-tokens/";

/// `POST /auth`'s answer.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AuthResponse {
    #[serde(rename = "Status")]
    status: String,
    #[serde(rename = "IdentityToken")]
    identity_token: String,
}

/// docker's checks of the flags, before anything is read.
fn check_flags(a: &LoginArgs) -> Result<()> {
    if a.password_stdin {
        if a.password.is_some() {
            bail!("conflicting options: cannot specify both --password and --password-stdin");
        }
        if a.username.is_none() {
            bail!("the --password-stdin option requires --username to be set");
        }
    }
    if a.username.as_deref() == Some("") {
        bail!("username is empty");
    }
    if a.password.as_deref() == Some("") {
        bail!("password is empty");
    }
    Ok(())
}

pub async fn login(client: &Client, a: LoginArgs) -> Result<u8> {
    check_flags(&a)?;
    let user = a.username.clone().unwrap_or_default();
    let mut password = a.password.clone().unwrap_or_default();
    if !password.is_empty() {
        eprintln!("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
    }
    if a.password_stdin {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        let s = s.strip_suffix('\n').unwrap_or(&s);
        password = s.strip_suffix('\r').unwrap_or(s).to_string();
    }
    let server = match a.server.as_deref() {
        Some(s) if !s.is_empty() && s != "docker.io" => s.to_string(),
        _ => INDEX_SERVER.to_string(),
    };
    let mut cfg = ConfigFile::load_default();
    let key = if server == INDEX_SERVER {
        server
    } else {
        convert_to_hostname(&server)
    };
    // Without a username or password given, the stored credentials are tried first.
    let stored = if user.is_empty() && password.is_empty() {
        cfg.get(&key)
    } else {
        Ok(AuthConfig::default())
    };
    let mut known = stored.as_ref().cloned().unwrap_or_default();
    known.serveraddress = key.clone();
    known.identitytoken.clear();
    let mut status = None;
    if stored.is_ok() && !known.username.is_empty() && !known.password.is_empty() {
        status = with_stored(client, &mut cfg, known.clone()).await?;
    }
    let status = match status {
        Some(s) => s,
        None => {
            let typed = Typed {
                user,
                password,
                default_user: known.username,
            };
            with_prompt(client, &mut cfg, typed, &key).await?
        }
    };
    if !status.is_empty() {
        println!("{status}");
    }
    Ok(0)
}

/// `Some(status)` when the stored credentials still log in; `None` sends the user to the
/// prompt, as docker does.
async fn with_stored(
    client: &Client,
    cfg: &mut ConfigFile,
    mut auth: AuthConfig,
) -> Result<Option<String>> {
    eprintln!(
        "Authenticating with existing credentials... [Username: {}]",
        auth.username
    );
    note_on_stderr(
        "To login with a different account, run 'berth logout' followed by 'berth login'",
    );
    eprint!("\n\n");
    let resp = post_auth(client, &auth).await;
    match &resp {
        Err(ClientError::Api { status: 401, .. }) => {
            eprintln!("Stored credentials invalid or expired")
        }
        Err(e) => eprintln!("Login did not succeed, error: {e}"),
        Ok(_) => {}
    }
    let resp = resp.ok();
    if let Some(r) = &resp
        && !r.identity_token.is_empty()
    {
        auth.password.clear();
        auth.identitytoken = r.identity_token.clone();
    }
    save(cfg, auth)?;
    Ok(resp.map(|r| r.status))
}

/// What the user gave on the command line, and the username stored before.
struct Typed {
    user: String,
    password: String,
    default_user: String,
}

async fn with_prompt(
    client: &Client,
    cfg: &mut ConfigFile,
    t: Typed,
    server: &str,
) -> Result<String> {
    if (t.user.is_empty() || t.password.is_empty()) && !std::io::stdin().is_terminal() {
        bail!("Error: Cannot perform an interactive login from a non TTY device");
    }
    // Docker Hub's web-based (device code) login is docker's alone: berth asks for a
    // username and password there too, as docker does with DOCKER_CLI_DISABLE_OAUTH_LOGIN.
    let mut auth = prompt_credentials(&t.user, &t.password, &t.default_user, server)?;
    let resp = match post_auth(client, &auth).await {
        // As docker: with no daemon to ask, the client asks the registry itself.
        Err(ClientError::Connect { .. }) => client_side(&auth).await?,
        r => r?,
    };
    if !resp.identity_token.is_empty() {
        auth.password.clear();
        auth.identitytoken = resp.identity_token;
    }
    save(cfg, auth)?;
    Ok(resp.status)
}

async fn post_auth(client: &Client, auth: &AuthConfig) -> Result<AuthResponse, ClientError> {
    let body = AuthConfig {
        username: auth.username.clone(),
        password: auth.password.clone(),
        serveraddress: auth.serveraddress.clone(),
        identitytoken: auth.identitytoken.clone(),
        registrytoken: auth.registrytoken.clone(),
        ..Default::default()
    };
    client.post_json("/auth", &body).await
}

/// docker's `loginClientSide`: the registry's `/v2/` challenge answered from here.
async fn client_side(auth: &AuthConfig) -> Result<AuthResponse> {
    use berth_distribution::client::{Client as Registry, Credentials, Settings};
    let creds = Credentials {
        username: auth.username.clone(),
        password: auth.password.clone(),
        identity_token: auth.identitytoken.clone(),
        registry_token: auth.registrytoken.clone(),
        server_address: auth.serveraddress.clone(),
        ..Default::default()
    };
    let host = match convert_to_hostname(&auth.serveraddress).as_str() {
        "index.docker.io" | "registry-1.docker.io" | "docker.io" => "docker.io".to_string(),
        h => h.to_string(),
    };
    let token = Registry::new(Settings::default())
        .login(&host, &creds)
        .await?;
    Ok(AuthResponse {
        status: "Login Succeeded".into(),
        identity_token: token,
    })
}

fn save(cfg: &mut ConfigFile, auth: AuthConfig) -> Result<()> {
    cfg.store(auth)
        .map_err(|e| anyhow::anyhow!("Error saving credentials: {e:#}"))
}

/// Docker's `PromptUserForCredentials`: the username on stdout (the stored one as the
/// default), the password without echo; for Docker Hub with docker's hints.
pub(super) fn prompt_credentials(
    user: &str,
    password: &str,
    default_user: &str,
    server: &str,
) -> Result<AuthConfig> {
    let mut user = user.trim().to_string();
    if user.is_empty() {
        if server == INDEX_SERVER {
            println!("{REGISTER_SUGGEST}");
            if hints_enabled() {
                println!("{PAT_SUGGEST}");
                println!();
            }
        }
        let default_user = default_user.trim();
        let msg = if default_user.is_empty() {
            "Username: ".to_string()
        } else {
            format!("Username ({default_user}): ")
        };
        user = read_input(&msg)?;
        if user.is_empty() {
            user = default_user.to_string();
        }
        if user.is_empty() {
            bail!("Error: Non-null Username Required");
        }
    }
    let mut password = password.trim().to_string();
    if password.is_empty() {
        let _echo = NoEcho::new()?;
        if server == INDEX_SERVER {
            note_on_stderr(
                "A Personal Access Token (PAT) can be used instead.\nTo create a PAT, visit \x1b[4mhttps://app.docker.com/settings\x1b[0m\n\n",
            );
        }
        password = read_input("Password: ")?;
        println!();
        if password.is_empty() {
            bail!("Error: Password Required");
        }
    }
    Ok(AuthConfig {
        username: user,
        password,
        serveraddress: server.to_string(),
        ..Default::default()
    })
}

/// `DOCKER_CLI_HINTS`: on unless a boolean that says false.
fn hints_enabled() -> bool {
    let v = std::env::var("DOCKER_CLI_HINTS").unwrap_or_default();
    !matches!(v.as_str(), "0" | "f" | "F" | "false" | "FALSE" | "False")
}

/// Writes `message` on stdout and reads a line of stdin, trimmed.
fn read_input(message: &str) -> Result<String> {
    print!("{message}");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim().to_string())
}

/// The terminal on stdin without echo, until dropped.
struct NoEcho(nix::sys::termios::Termios);

/// The terminal's mode before echo went off, for the SIGINT handler to put back.
static ECHOING: std::sync::OnceLock<libc::termios> = std::sync::OnceLock::new();

/// Ctrl-C at the password prompt: the terminal echoes again before the process dies of the
/// signal (else the user's shell is left without echo).
extern "C" fn restore_and_die(sig: libc::c_int) {
    // SAFETY: tcsetattr, signal and raise are async-signal-safe; the termios lives in a
    // static set before this handler was installed.
    unsafe {
        if let Some(t) = ECHOING.get() {
            libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, t);
        }
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

impl NoEcho {
    fn new() -> Result<NoEcho> {
        use nix::sys::termios::{self, LocalFlags, SetArg};
        let stdin = std::io::stdin();
        let saved = termios::tcgetattr(stdin.as_fd())?;
        let _ = ECHOING.set(saved.clone().into());
        // SAFETY: the handler only makes async-signal-safe calls.
        unsafe {
            libc::signal(
                libc::SIGINT,
                restore_and_die as *const () as libc::sighandler_t,
            );
        }
        let mut quiet = saved.clone();
        quiet.local_flags.remove(LocalFlags::ECHO);
        termios::tcsetattr(stdin.as_fd(), SetArg::TCSADRAIN, &quiet)?;
        Ok(NoEcho(saved))
    }
}

impl Drop for NoEcho {
    fn drop(&mut self) {
        use nix::sys::termios::{self, SetArg};
        if let Err(e) = termios::tcsetattr(std::io::stdin().as_fd(), SetArg::TCSADRAIN, &self.0) {
            eprintln!("Error: failed to restore terminal state to echo input: {e}");
        }
        // SAFETY: back to the default action, as before the prompt.
        unsafe {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
        }
    }
}

fn note_on_stderr(text: &str) {
    let tty = std::io::stderr().is_terminal();
    print_note(&mut std::io::stderr(), tty, text);
}

/// Docker's `PrintNote`: an `Info ->` header (coloured on a terminal) and the text indented
/// under it, italic on a terminal.
pub(super) fn print_note(w: &mut dyn Write, tty: bool, text: &str) {
    let header = if tty {
        "\x1b[1m\x1b[106m\x1b[30mi\x1b[0m\x1b[0m \x1b[96mInfo → \x1b[0m\x1b[0m"
    } else {
        " Info -> "
    };
    let mut s = format!("\n{header}");
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            s.push_str(&" ".repeat(9));
        }
        if tty {
            s.push_str(&format!("\x1b[3m{line}\x1b[0m\n"));
        } else {
            s.push_str(line);
            s.push('\n');
        }
    }
    let _ = w.write_all(s.as_bytes());
}

pub async fn logout(a: LogoutArgs) -> Result<u8> {
    let (server, default) = match a.server {
        Some(s) if !s.is_empty() => (s, false),
        _ => (INDEX_SERVER.to_string(), true),
    };
    let mut regs = vec![server.clone()];
    let mut host = server;
    if !default {
        host = convert_to_hostname(&host);
        regs.extend([
            host.clone(),
            format!("http://{host}"),
            format!("https://{host}"),
        ]);
    }
    let mut cfg = ConfigFile::load_default();
    println!("Removing login credentials for {host}");
    // Keyed by registry as docker's map: a name given twice (`host` is its own hostname)
    // counts once, so docker warns only when four different names all failed.
    let errs: BTreeMap<&String, anyhow::Error> = regs
        .iter()
        .filter_map(|r| cfg.erase(r).err().map(|e| (r, e)))
        .collect();
    if errs.len() == regs.len() {
        eprintln!("WARNING: could not erase credentials:");
        for (k, e) in errs {
            eprintln!("{k}: {e:#}");
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(user: Option<&str>, pass: Option<&str>, stdin: bool) -> LoginArgs {
        LoginArgs {
            server: None,
            username: user.map(str::to_string),
            password: pass.map(str::to_string),
            password_stdin: stdin,
        }
    }

    #[test]
    fn flags_are_checked_in_dockers_words() {
        let e = |a| check_flags(&a).unwrap_err().to_string();
        assert_eq!(
            e(args(Some("u"), Some("p"), true)),
            "conflicting options: cannot specify both --password and --password-stdin"
        );
        assert_eq!(
            e(args(None, None, true)),
            "the --password-stdin option requires --username to be set"
        );
        assert_eq!(e(args(Some(""), None, false)), "username is empty");
        assert_eq!(e(args(None, Some(""), false)), "password is empty");
        check_flags(&args(Some("u"), None, true)).unwrap();
    }

    #[test]
    fn notes_as_docker_prints_them() {
        let mut out = Vec::new();
        print_note(&mut out, false, "one\ntwo");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\n Info -> one\n         two\n"
        );
    }
}
