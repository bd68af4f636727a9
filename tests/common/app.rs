//! Starts `posbon app` on a test vault and talks to it as its browser would (or as a stranger
//! would, when a test leaves something out).

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use reqwest::blocking::{Client, Response, multipart};

use super::{TestVault, posbon};

pub struct App {
    pub child: Child,
    /// The one-time launch link the app printed.
    pub launch: String,
    pub port: u16,
    pub client: Client,
    /// The session cookie, once the launch link was opened.
    pub cookie: Option<String>,
    /// The form token read from the last page.
    pub csrf: Option<String>,
}

impl App {
    /// Starts the app on `vault` with `extra` arguments (the language, the lock time...).
    pub fn start(vault: &TestVault, extra: &[&str], env: &[(&str, &str)]) -> App {
        let mut command = posbon();
        command
            .arg("--vault")
            .arg(&vault.dir)
            .args(["app", "--no-browser"])
            .args(extra)
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env_remove("LANG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("posbon app starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let launch = line
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .unwrap_or_else(|| panic!("no link in {line:?}"))
            .to_string();
        let port = launch
            .trim_start_matches("http://")
            .split('/')
            .next()
            .and_then(|host| host.rsplit(':').next())
            .unwrap()
            .parse()
            .unwrap();
        let client = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .unwrap();
        App {
            child,
            launch,
            port,
            client,
            cookie: None,
            csrf: None,
        }
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Opens the launch link, as the browser does once.
    pub fn sign_in(&mut self) {
        let answer = self.client.get(&self.launch).send().unwrap();
        assert_eq!(answer.status(), 303);
        let cookie = answer.headers()["set-cookie"].to_str().unwrap();
        self.cookie = Some(cookie.split(';').next().unwrap().to_string());
    }

    /// A page, with the session; remembers its form token.
    pub fn page(&mut self, path: &str) -> String {
        let answer = self.get(path);
        assert!(answer.status().is_success(), "{path}: {}", answer.status());
        self.read(answer)
    }

    pub fn get(&self, path: &str) -> Response {
        let mut request = self.client.get(format!("{}{path}", self.base()));
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        request.send().unwrap()
    }

    /// The text of an answer; remembers the form token in it.
    pub fn read(&mut self, answer: Response) -> String {
        let text = answer.text().unwrap();
        if let Some(at) = text.find("csrf=") {
            self.csrf = Some(text[at + 5..at + 69].to_string());
        }
        text
    }

    /// Posts a form as the app's own page does: session, Origin, form token.
    pub fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Response {
        let csrf = self.csrf.clone().expect("a page was read first");
        self.client
            .post(format!("{}{path}?csrf={csrf}", self.base()))
            .header("cookie", self.cookie.as_deref().unwrap_or(""))
            .header("origin", self.base())
            .header("sec-fetch-site", "same-origin")
            .form(form)
            .send()
            .unwrap()
    }

    /// Posts a form and follows a redirect to its page.
    pub fn submit(&mut self, path: &str, form: &[(&str, &str)]) -> String {
        let answer = self.post(path, form);
        self.follow(answer)
    }

    pub fn follow(&mut self, answer: Response) -> String {
        if answer.status() == 303 {
            let to = answer.headers()["location"].to_str().unwrap().to_string();
            self.page(&to)
        } else {
            assert!(answer.status().is_success(), "{}", answer.status());
            self.read(answer)
        }
    }

    /// Uploads `bytes` as the file `name` to record `id`.
    pub fn attach(&mut self, id: &str, name: &str, bytes: Vec<u8>) -> Response {
        let csrf = self.csrf.clone().expect("a page was read first");
        let form = multipart::Form::new().part(
            "file",
            multipart::Part::bytes(bytes).file_name(name.to_string()),
        );
        self.client
            .post(format!("{}/r/{id}/attach?csrf={csrf}", self.base()))
            .header("cookie", self.cookie.as_deref().unwrap_or(""))
            .header("origin", self.base())
            .multipart(form)
            .send()
            .unwrap()
    }

    /// Posts a multipart form of `(name, file name, bytes)` files and `(name, value)` fields.
    pub fn post_files(
        &mut self,
        path: &str,
        files: &[(&str, &str, Vec<u8>)],
        fields: &[(&str, &str)],
    ) -> Response {
        let csrf = self.csrf.clone().expect("a page was read first");
        let mut form = multipart::Form::new();
        for (name, file_name, bytes) in files {
            form = form.part(
                name.to_string(),
                multipart::Part::bytes(bytes.clone()).file_name(file_name.to_string()),
            );
        }
        for (name, value) in fields {
            form = form.text(name.to_string(), value.to_string());
        }
        self.client
            .post(format!("{}{path}?csrf={csrf}", self.base()))
            .header("cookie", self.cookie.as_deref().unwrap_or(""))
            .header("origin", self.base())
            .multipart(form)
            .send()
            .unwrap()
    }

    /// Unlocks with `passphrase`; returns the page shown.
    pub fn unlock(&mut self, passphrase: &str) -> String {
        self.page("/");
        self.submit("/unlock", &[("passphrase", passphrase)])
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The record ids linked from a page.
pub fn record_ids(page: &str) -> Vec<String> {
    page.match_indices("href=\"/r/")
        .map(|(at, _)| page[at + 9..at + 41].to_string())
        .filter(|id| id.chars().all(|c| c.is_ascii_hexdigit()))
        .collect()
}
