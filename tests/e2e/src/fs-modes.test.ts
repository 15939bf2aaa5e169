/**
 * Issue 3: the filesystem modes. Every row of the default mode's table and
 * every filesystem flag, tried as an unprivileged user and as root, each
 * asserting what the host looks like afterwards.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import {
  amRoot,
  CLI,
  describeEachUser,
  MINIMAL_DEV,
  marker,
  REPO,
  runCli,
  snapshot,
  spawnAs,
  testBase,
  type User,
  workdir,
} from "./harness.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cleanups: (() => void)[] = [];
afterAll(() => {
  for (const fn of cleanups.splice(0).reverse()) fn();
});

function own(user: User, path: string): void {
  if (amRoot) spawnSync("chown", ["-R", `${user.uid}:${user.gid}`, path]);
}

/** A project inside the user's home: H/ms-e2e-M/proj/wd (C) with a sibling file, and a secret in H. */
function homeProject(user: User) {
  const m = marker();
  const top = join(user.home, `ms-e2e-${m}`);
  const cwd = join(top, "proj", "wd");
  mkdirSync(cwd, { recursive: true });
  writeFileSync(join(top, "proj", "sibling.txt"), "visible\n");
  const secret = join(user.home, `.ms-e2e-secret-${m}`);
  mkdirSync(secret);
  writeFileSync(join(secret, "id_rsa"), "PRIVATE\n");
  own(user, top);
  own(user, secret);
  cleanups.push(() => {
    rmSync(top, { recursive: true, force: true });
    rmSync(secret, { recursive: true, force: true });
  });
  return { m, top, cwd, secret };
}

/** Runs `sh -c script` in the sandbox with `flags`. */
function sandboxSh(
  user: User,
  flags: string[],
  script: string,
  cwd: string,
  env: Record<string, string> = {},
) {
  return runCli(user, [...flags, "--", "sh", "-c", script], { cwd, env });
}

/** A fresh host directory (as root) that is removed after the suite. */
function hostDir(path: string, mode = 0o755): string {
  mkdirSync(path, { recursive: true, mode });
  chmodSync(path, mode);
  cleanups.push(() => rmSync(path, { recursive: true, force: true }));
  return path;
}

describeEachUser("default mode (-x): system directories", (user) => {
  it("shows /usr /etc /var /opt through overlays: allowed writes succeed and are discarded", async () => {
    const cwd = workdir(user);
    const m = marker();
    // A directory the user owns inside an overlay area, so both users have an allowed write.
    const mine = hostDir(`/opt/ms-e2e-${m}`);
    if (amRoot) chownSync(mine, user.uid, user.gid);
    const keep = join(workdir(user, "keep"), "k");
    const before = snapshot(user);
    const script = [
      `echo 1 > ${mine}/new && echo MINE-OK`,
      `(echo 1 > /etc/ms-${m}) 2>/dev/null && echo ETC-OK`,
      `(echo 1 > /usr/ms-${m}) 2>/dev/null && echo USR-OK`,
      `(echo 1 > /usr/lib/ms-${m}) 2>/dev/null && echo USRLIB-OK`,
      `cat /etc/hostname >/dev/null && echo ETC-READABLE`,
      `test -x /usr/bin/env && echo USR-VISIBLE`,
      `readlink /bin`,
    ].join("; ");
    const r = await sandboxSh(user, ["-x", "--keep-changes", keep], script, cwd);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("MINE-OK");
    expect(r.stdout).toContain("ETC-READABLE");
    expect(r.stdout).toContain("USR-VISIBLE");
    expect(r.stdout).toContain(`${readlinkSync("/bin")}\n`);
    if (user.uid === 0) {
      // root may write /etc and /usr: the writes land in the overlay, never on the host.
      expect(r.stdout).toContain("ETC-OK");
      expect(r.stdout).toContain("USR-OK");
      expect(r.stdout).toContain("USRLIB-OK");
      expect(readFileSync(join(keep, "etc", `ms-${m}`), "utf8")).toBe("1\n");
      expect(readFileSync(join(keep, "usr", "lib", `ms-${m}`), "utf8")).toBe("1\n");
    } else {
      expect(r.stdout).not.toMatch(/ETC-OK|USR-OK|USRLIB-OK/);
    }
    for (const path of [`/etc/ms-${m}`, `/usr/ms-${m}`, `/usr/lib/ms-${m}`, `${mine}/new`])
      expect(existsSync(path), path).toBe(false);
    expect(readFileSync(join(keep, "opt", `ms-e2e-${m}`, "new"), "utf8")).toBe("1\n");
    expect(snapshot(user)).toEqual(before);
  });

  it("makes /tmp, /var/tmp, /run, /var/run and $XDG_RUNTIME_DIR private and empty", async () => {
    const cwd = workdir(user);
    const m = marker();
    const xdg = mkdtempSync(join(testBase(), "xdg-"));
    chmodSync(xdg, 0o700);
    own(user, xdg);
    writeFileSync(join(xdg, "bus"), "host socket stand-in\n");
    writeFileSync(join(testBase(), `tmp-secret-${m}`), "x");
    const before = snapshot(user);
    const script = [
      `ls -A /tmp | tr '\\n' ' '; echo`,
      `ls -A /run | tr '\\n' ' '; echo`,
      `ls -A /var/run/ | tr '\\n' ' '; echo`,
      `ls -A "$XDG_RUNTIME_DIR" | wc -l`,
      `echo 1 > /tmp/ms-${m} && echo 1 > /var/tmp/ms-${m} && echo 1 > "$XDG_RUNTIME_DIR/ms-${m}" && echo WROTE`,
    ].join("; ");
    const r = await sandboxSh(user, ["-x"], script, cwd, { XDG_RUNTIME_DIR: xdg });
    const [tmp, run, varRun, xdgCount] = r.stdout.split("\n");
    // /tmp holds only the way down to C (and the private runtime dir, which lives there here).
    expect(tmp?.trim().split(" ").sort()).toEqual([testBase().split("/")[2]]);
    expect(run?.trim()).toBe("");
    expect(varRun?.trim()).toBe("");
    expect(xdgCount).toBe("0");
    expect(r.stdout).toContain("WROTE");
    for (const p of [`/tmp/ms-${m}`, `/var/tmp/ms-${m}`, join(xdg, `ms-${m}`)])
      expect(existsSync(p), p).toBe(false);
    // The overlay storage lived in the (private) runtime dir and is gone.
    expect(readdirSync(xdg)).toEqual(["bus"]);
    expect(snapshot(user)).toEqual(before);
  });

  it("gives a minimal /dev with a private /dev/shm, a fresh /proc and a read-only /sys", async () => {
    const cwd = workdir(user);
    const m = marker();
    const script = [
      `ls /dev | tr '\\n' ' '; echo`,
      `echo 1 > /dev/shm/ms-${m} && echo SHM-OK`,
      `ls /proc | grep -cE '^[0-9]+$'`,
      `(echo 1 > /sys/ms-${m}) 2>&1 | grep -c 'Read-only'`,
      `awk '$5 == "/sys" {print $6}' /proc/self/mountinfo | cut -d, -f1`,
    ].join("; ");
    const r = await sandboxSh(user, ["-x"], script, cwd);
    const [dev, shm, procs, sysRo, sysOpts] = r.stdout.split("\n");
    expect(dev?.trim().split(" ").sort()).toEqual(MINIMAL_DEV);
    expect(shm).toBe("SHM-OK");
    expect(Number(procs)).toBeLessThan(8);
    expect(sysRo).toBe("1");
    expect(sysOpts).toBe("ro");
    expect(existsSync(`/dev/shm/ms-${m}`)).toBe(false);
  });

  it("keeps everything else read-only, recursively: every mount but the writable ones is ro", async () => {
    const cwd = workdir(user);
    // The top-level directory holding this checkout: some other host
    // directory (unless it is one the table treats specially).
    const top = `/${REPO.split("/")[1]}`;
    const special = ["/tmp", "/home", "/root", "/var", "/usr", "/etc", "/opt", "/run", "/srv"];
    const checkoutTop = special.includes(top) ? "/mnt" : top;
    const m = marker();
    const script = [
      `(echo 1 > /srv/ms-${m}) 2>/dev/null && echo SRV-WROTE`,
      `(echo 1 > ${checkoutTop}/ms-${m}) 2>/dev/null && echo TOP-WROTE`,
      `(echo 1 > /ms-${m}) 2>/dev/null && echo ROOT-WROTE`,
      `(mkdir /home/ms-${m}) 2>/dev/null && echo HOME-WROTE`,
      // Writable: the overlays, C, the private tmpfs mounts, /dev, /proc, and the home tmpfs.
      `awk '{print $5, $6}' /proc/self/mountinfo | grep -v -E "^(/usr|/etc|/var|/opt|/tmp|/var/tmp|/run|/dev|/dev/[a-z]+|/proc|${user.home}|${cwd}) " | grep -v -E "^[^ ]+ ro" || echo ALL-RO`,
    ].join("; ");
    const r = await sandboxSh(user, ["-x"], script, cwd);
    expect(r.stdout).not.toMatch(/-WROTE/);
    expect(r.stdout.trim().split("\n").pop()).toBe("ALL-RO");
    for (const p of [`/srv/ms-${m}`, `${checkoutTop}/ms-${m}`, `/ms-${m}`, `/home/ms-${m}`])
      expect(existsSync(p), p).toBe(false);
  });
});

describeEachUser("default mode (-x): the working directory and the home", (user) => {
  it("C is writable and persists; its parents below H are read-only; nothing else of H shows", async () => {
    const { m, top, cwd, secret } = homeProject(user);
    const before = snapshot(user);
    const script = [
      `echo kept > out.txt && echo C-OK`,
      `cat ../sibling.txt`,
      `(echo 1 > ../ms-${m}) 2>/dev/null && echo PARENT-WROTE`,
      `ls -A ~ | tr '\\n' ' '; echo`,
      `ls -A ${secret} 2>&1 | grep -c 'No such file'`,
      `echo 1 > ~/ms-tmp-${m} && echo HOME-WRITABLE`,
    ].join("; ");
    const r = await sandboxSh(user, ["-x"], script, cwd);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe("C-OK");
    expect(lines[1]).toBe("visible");
    expect(r.stdout).not.toContain("PARENT-WROTE");
    expect(lines[2]).toBe(`ms-e2e-${m} `);
    expect(lines[3]).toBe("1");
    expect(r.stdout).toContain("HOME-WRITABLE");
    expect(readFileSync(join(cwd, "out.txt"), "utf8")).toBe("kept\n");
    expect(existsSync(join(top, "proj", `ms-${m}`))).toBe(false);
    expect(existsSync(join(user.home, `ms-tmp-${m}`))).toBe(false);
    expect(snapshot(user)).toEqual(before);
  });

  it("C == H: the home is not shared; the command starts in an empty, discarded home, and is told so", async () => {
    const { m } = homeProject(user);
    const before = snapshot(user);
    const r = await sandboxSh(
      user,
      ["-x"],
      `pwd; ls -A | wc -l; echo 1 > ms-in-home-${m} && echo WROTE`,
      user.home,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${user.home}\n0\nWROTE\n`);
    expect(r.stderr).toMatch(/does not share it.*-w /);
    expect(existsSync(join(user.home, `ms-in-home-${m}`))).toBe(false);
    expect(snapshot(user)).toEqual(before);
    // Shared explicitly with -w, it is the host's home again.
    const shared = await sandboxSh(
      user,
      ["-x", "-w", user.home],
      `ls -A | grep -c ms-e2e-${m}`,
      user.home,
    );
    expect(shared.stdout).toBe("1\n");
  });

  it("hides other users' homes", async () => {
    const cwd = workdir(user);
    const others = readdirSync("/home").filter((n) => join("/home", n) !== user.home);
    expect(others.length).toBeGreaterThan(0);
    const r = await sandboxSh(
      user,
      ["-x"],
      "ls -A /home | tr '\\n' ' '; echo; ls -A /root 2>/dev/null | wc -l",
      cwd,
    );
    const [home, root] = r.stdout.split("\n");
    expect(home?.trim()).toBe(user.home.startsWith("/home/") ? user.home.slice(6) : "");
    if (user.home !== "/root") expect(root).toBe("0");
  });

  it("refuses a working directory that contains the home (exit 125)", async () => {
    const parent = join(user.home, "..");
    const r = await sandboxSh(user, ["-x"], "touch ran", parent);
    expect(r.code).toBe(125);
    // (root's home is /root: its parent is /, refused as the whole host.)
    expect(r.stderr).toMatch(/contains (your home directory|\/home)|whole host would be writable/);
  });

  it("never lets a symlink in C lead to hidden content", async () => {
    const { cwd, secret } = homeProject(user);
    symlinkSync(join(secret, "id_rsa"), join(cwd, "leak"));
    symlinkSync("../../../.ms-e2e-secret-x/../", join(cwd, "leak2"));
    const r = await sandboxSh(
      user,
      ["-x"],
      "cat leak 2>&1; ls leak2/ 2>&1 | grep -c ms-e2e-secret",
      cwd,
    );
    expect(r.stdout).not.toContain("PRIVATE");
    expect(r.stdout).toMatch(/No such file/);
    expect(r.stdout.trim().split("\n").pop()).toBe("0");
    expect(readFileSync(join(secret, "id_rsa"), "utf8")).toBe("PRIVATE\n");
  });

  it("handles spaces, commas, colons and newlines in paths", async () => {
    const base = workdir(user);
    const odd = join(base, "a b,c:d\ne");
    const data = join(base, "da ta,x:y");
    mkdirSync(odd);
    mkdirSync(data);
    writeFileSync(join(data, "f"), "data\n");
    own(user, base);
    const r = await runCli(
      user,
      [
        "-x",
        "-k",
        data,
        "-M",
        join(data, "f"),
        "-m",
        join(odd, "ro f"),
        "--changes",
        "--",
        "sh",
        "-c",
        `echo ok > out; cat 'ro f'; echo new > '${data}/g'; pwd`,
      ],
      { cwd: odd },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`data\n${odd}\n`);
    expect(readFileSync(join(odd, "out"), "utf8")).toBe("ok\n");
    expect(existsSync(join(data, "g"))).toBe(false);
    expect(r.stderr).toContain(`created  ${data}/g\n`);
  });
});

describeEachUser("default mode (-x): host mounts", (user) => {
  it("keeps host submounts read-only, and host mounts made later never appear inside", async () => {
    if (!amRoot) {
      // Without root the test cannot make host mounts; the mountinfo check above covers existing ones.
      expect(user.uid).not.toBe(0);
      return;
    }
    const cwd = workdir(user);
    const m = marker();
    const sub = hostDir(`/srv/ms-sub-${m}`);
    const later = hostDir(`/srv/ms-later-${m}`);
    expect(spawnSync("mount", ["-t", "tmpfs", "-o", "mode=1777", "ms-e2e", sub]).status).toBe(0);
    cleanups.push(() => spawnSync("umount", ["-l", sub]));
    const child = spawnAs(
      user,
      [
        CLI,
        "-x",
        "--",
        "sh",
        "-c",
        [
          `(echo 1 > ${sub}/f) 2>&1 | grep -c Read-only`,
          `echo ready`,
          `while [ ! -e go ]; do sleep 0.05; done`,
          `grep -c ms-later /proc/self/mountinfo`,
          `(echo 1 > ${later}/f) 2>&1 | grep -c Read-only`,
        ].join("; "),
      ],
      { cwd },
    );
    let out = "";
    child.stdout?.setEncoding("utf8").on("data", (d) => {
      out += d;
    });
    const done = new Promise((r) => child.on("close", r));
    while (!out.includes("ready")) await sleep(20);
    expect(
      spawnSync("mount", ["-t", "tmpfs", "-o", "mode=1777", "ms-e2e-later", later]).status,
    ).toBe(0);
    spawnSync("touch", [join(cwd, "go")]);
    await done;
    spawnSync("umount", [later]);
    expect(out).toBe("1\nready\n0\n1\n");
    expect(existsSync(`${sub}/f`)).toBe(false);
  });

  it("never triggers or stats autofs mount points during setup", async () => {
    if (!amRoot) {
      expect(user.uid).not.toBe(0);
      return;
    }
    const cwd = workdir(user);
    const m = marker();
    const points = [`/srv/ms-autofs-${m}`, `/usr/local/ms-autofs-${m}`, `/ms-autofs-${m}`];
    // A stand-in automount daemon: direct autofs mounts whose requests arrive on a pipe it never answers.
    const daemon = spawn(
      "python3",
      [
        "-c",
        [
          "import os, sys, subprocess",
          "r, w = os.pipe(); os.set_blocking(r, False)",
          "for p in sys.argv[1:]:",
          "    os.makedirs(p, exist_ok=True)",
          "    subprocess.run(['mount', '-t', 'autofs', '-o', f'fd={w},pgrp={os.getpgrp()},minproto=5,maxproto=5,direct', 'ms-e2e-autofs', p], pass_fds=[w], check=True)",
          "print('ready', flush=True); sys.stdin.readline(); n = 0",
          "try:",
          "    while True: n += len(os.read(r, 4096))",
          "except BlockingIOError: pass",
          "for p in sys.argv[1:]: subprocess.run(['umount', '-l', p]); os.rmdir(p)",
          "print(f'requests {n}', flush=True)",
        ].join("\n"),
        ...points,
      ],
      { detached: true, stdio: ["pipe", "pipe", "inherit"] },
    );
    let log = "";
    daemon.stdout?.setEncoding("utf8").on("data", (d) => {
      log += d;
    });
    const finished = new Promise((r) => daemon.on("close", r));
    while (!log.includes("ready")) await sleep(20);
    let r: Awaited<ReturnType<typeof runCli>>;
    try {
      r = await runCli(
        user,
        ["-x", "--", "sh", "-c", "grep -c ms-e2e-autofs /proc/self/mountinfo"],
        { cwd, timeoutMs: 15_000 },
      );
    } finally {
      daemon.stdin?.end("done\n");
      await finished;
    }
    expect(log).toContain("requests 0");
    expect(r.code).toBe(0);
    // Below /usr it rules out the overlay: a visible fallback to read-only, never a silent one.
    expect(r.stderr).toMatch(
      /\/usr is read-only instead of an overlay: host mounts below it \(\/usr\/local\/ms-autofs-/,
    );
    // The autofs mounts are carried along untouched (the top-level one and the one in /srv).
    expect(Number(r.stdout)).toBeGreaterThanOrEqual(2);
  });
});

describeEachUser("filesystem flags", (user) => {
  it("-M PATH binds read-only (files and directories); -M SRC -m DST elsewhere; relative to C", async () => {
    const { cwd, top } = homeProject(user);
    writeFileSync(join(top, "cfg"), "config\n");
    own(user, top);
    const r = await sandboxSh(
      user,
      ["-x", "-M", "../../cfg", "-M", "../sibling.txt", "-m", "/opt/ms-sib"],
      [`cat ${top}/cfg /opt/ms-sib`, `(echo x >> ${top}/cfg) 2>/dev/null && echo CFG-WROTE`].join(
        "; ",
      ),
      cwd,
    );
    expect(r.stdout).toBe("config\nvisible\n");
    expect(readFileSync(join(top, "cfg"), "utf8")).toBe("config\n");
    expect(existsSync("/opt/ms-sib")).toBe(false);
  });

  it("-w PATH binds writable: changes persist", async () => {
    const cwd = workdir(user);
    const out = workdir(user, "out");
    const r = await sandboxSh(user, ["-x", "-w", out], `echo kept > ${out}/f`, cwd);
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, "f"), "utf8")).toBe("kept\n");
  });

  it("-e DIR puts an empty private tmpfs over DIR", async () => {
    const cwd = workdir(user);
    mkdirSync(join(cwd, "node_modules"));
    writeFileSync(join(cwd, "node_modules", "old"), "x");
    own(user, cwd);
    const r = await sandboxSh(
      user,
      ["-x", "-e", "node_modules"],
      "ls -A node_modules | wc -l; echo 1 > node_modules/new && echo OK",
      cwd,
    );
    expect(r.stdout).toBe("0\nOK\n");
    expect(readdirSync(join(cwd, "node_modules"))).toEqual(["old"]);
  });

  it("-k PATH overlays a directory: visible, writable, discarded; --changes lists the writes", async () => {
    const cwd = workdir(user);
    const data = workdir(user, "data");
    writeFileSync(join(data, "keep"), "k\n");
    writeFileSync(join(data, "edit"), "old\n");
    writeFileSync(join(data, "gone"), "g\n");
    own(user, data);
    const report = join(workdir(user, "report"), "r.json");
    const r = await sandboxSh(
      user,
      ["-x", "-k", data, "--changes", "--report", report],
      `cat ${data}/keep; echo new >> ${data}/edit; rm ${data}/gone; mkdir ${data}/d; echo n > ${data}/d/n`,
      cwd,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("k\n");
    expect(readdirSync(data).sort()).toEqual(["edit", "gone", "keep"]);
    expect(readFileSync(join(data, "edit"), "utf8")).toBe("old\n");
    expect(r.stderr).toContain("change(s) in overlay areas (discarded)");
    expect(r.stderr).toMatch(new RegExp(`modified ${data}/edit\\n`));
    expect(r.stderr).toMatch(new RegExp(`deleted  ${data}/gone\\n`));
    expect(r.stderr).toMatch(new RegExp(`created  ${data}/d/\\n`));
    const json = JSON.parse(readFileSync(report, "utf8")) as {
      changes: { path: string; change: string }[];
    };
    expect(json.changes).toEqual([
      { path: `${data}/d`, change: "created", type: "dir" },
      { path: `${data}/d/n`, change: "created", type: "file" },
      { path: `${data}/edit`, change: "modified", type: "file" },
      { path: `${data}/gone`, change: "deleted", type: "file" },
    ]);
  });

  it("-d DIR holds the overlay storage during the run and is empty afterwards", async () => {
    const cwd = workdir(user);
    const ovl = workdir(user, "ovl");
    const child = spawnAs(
      user,
      [
        CLI,
        "-x",
        "-d",
        ovl,
        "--",
        "sh",
        "-c",
        "echo ready; while [ ! -e go ]; do sleep 0.05; done",
      ],
      { cwd },
    );
    let out = "";
    child.stdout?.setEncoding("utf8").on("data", (d) => {
      out += d;
    });
    const done = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
    while (!out.includes("ready")) await sleep(20);
    const during = readdirSync(ovl);
    const mode = during[0] ? lstatSync(join(ovl, during[0])).mode & 0o777 : 0;
    writeFileSync(join(cwd, "go"), "");
    expect(await done).toBe(0);
    expect(during).toHaveLength(1);
    expect(during[0]).toMatch(/^mini-sandbox-\d+-\d+-\w{6}$/);
    expect(mode.toString(8)).toBe("700");
    expect(readdirSync(ovl)).toEqual([]);
  });

  it("-o ROOT -d DIR: a custom root with only what is asked for", async () => {
    const cwd = workdir(user);
    const root = workdir(user, "root");
    const ovl = workdir(user, "ovl");
    const m = marker();
    const r = await sandboxSh(
      user,
      ["-o", root, "-d", ovl, "-k", "/usr", "-M", "/etc"],
      `ls -A / | tr '\\n' ' '; echo; (echo 1 > /usr/ms-${m}) 2>/dev/null && echo USR-OK; (echo 1 > /etc/ms-${m}) 2>/dev/null && echo ETC-WROTE; echo 1 > /ms-${m} && echo ROOT-OK`,
      cwd,
    );
    expect(r.code).toBe(0);
    const top = testBase().split("/")[1];
    const names = (r.stdout.split("\n")[0] ?? "").trim().split(" ").sort();
    const links = readdirSync("/").filter(
      (n) => lstatSync(`/${n}`).isSymbolicLink() && readlinkSync(`/${n}`).startsWith("usr/"),
    );
    expect(names).toEqual(
      ["dev", "etc", "proc", "tmp", "usr", ...links, ...(top === "tmp" ? [] : [top])].sort(),
    );
    expect(r.stdout).not.toContain("ETC-WROTE");
    expect(r.stdout).toContain("ROOT-OK");
    if (user.uid === 0) expect(r.stdout).toContain("USR-OK");
    expect(existsSync(`/usr/ms-${m}`)).toBe(false);
    expect(readdirSync(root)).toEqual([]);
    expect(readdirSync(ovl)).toEqual([]);
  });

  it("-h ROOT: hermetic, nothing but what is asked for, no home", async () => {
    const cwd = workdir(user);
    const root = workdir(user, "root");
    const r = await runCli(
      user,
      [
        "-h",
        root,
        "-M",
        "/usr",
        "--",
        "/usr/bin/sh",
        "-c",
        "ls -A / | tr '\\n' ' '; echo; ls -d $HOME 2>&1 | grep -c 'No such'; echo hi > here",
      ],
      { cwd },
    );
    expect(r.code).toBe(0);
    const names = (r.stdout.split("\n")[0] ?? "").trim().split(" ");
    expect(names).not.toContain("etc");
    expect(names).not.toContain("home");
    expect(names).toContain("usr");
    expect(r.stdout.split("\n")[1]).toBe("1");
    expect(readFileSync(join(cwd, "here"), "utf8")).toBe("hi\n");
    expect(readdirSync(root)).toEqual([]);
  });

  it("refuses missing paths, conflicting modes and storage inside a writable directory (125, naming them)", async () => {
    const cwd = workdir(user);
    const cases: [string[], RegExp][] = [
      [["-x", "-M", "no-such"], new RegExp(`-M no-such: ${cwd}/no-such does not exist`)],
      [["-x", "-w", "/no/such"], /-w \/no\/such: \/no\/such does not exist/],
      [["-x", "-k", "/no/such"], /-k \/no\/such: \/no\/such does not exist/],
      [["-x", "-e", "/no/such"], /-e \/no\/such: \/no\/such does not exist/],
      [["-x", "-o", cwd], /-x and -o cannot be used together/],
      [["-h", cwd, "-k", cwd], /-h and -k cannot be used together/],
      [["-k", cwd], /-k needs an overlay mode/],
      [["-x", "-d", cwd], /overlay directory .* \(-d\) is inside the working directory/],
      [["-o", cwd], /sandbox root .* \(-o\) is inside the working directory/],
      [["-x", "-m", "/x"], /-m \/x must follow -M SRC/],
    ];
    for (const [flags, message] of cases) {
      const r = await runCli(user, [...flags, "--", "touch", "ran"], { cwd });
      expect(r.code, flags.join(" ")).toBe(125);
      expect(r.stderr, flags.join(" ")).toMatch(message);
    }
    expect(existsSync(join(cwd, "ran"))).toBe(false);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it("explain prints the mount table without creating anything", async () => {
    const cwd = workdir(user);
    const before = snapshot(user);
    const r = await runCli(user, ["explain", "-x", "-w", cwd, "--", "make"], { cwd });
    expect(r.code).toBe(0);
    const row = (path: string) =>
      r.stdout
        .split("\n")
        .find((l) => l.startsWith(`${path} `))
        ?.split(/\s{2,}/)[1];
    expect(row("/usr")).toBe("overlay");
    expect(row("/etc")).toBe("overlay");
    expect(row("/srv")).toBe("read-only");
    expect(row("/tmp")).toBe("tmpfs");
    expect(row("/home")).toBe("hidden");
    expect(row(cwd)).toBe("writable");
    expect(r.stdout).toMatch(/^PATH +KIND +SOURCE$/m);
    expect(snapshot(user)).toEqual(before);
    const json = JSON.parse((await runCli(user, ["explain", "--json", "-x"], { cwd })).stdout) as {
      mounts: { path: string; kind: string }[];
    };
    expect(json.mounts.find((x) => x.path === "/var")?.kind).toBe("overlay");
  });
});

describeEachUser("storage and cleanup", (user) => {
  it("16 parallel -x runs in the same directory all succeed and leave nothing behind", async () => {
    const cwd = workdir(user);
    const before = snapshot(user);
    const runs = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        runCli(
          user,
          [
            "-x",
            "--",
            "sh",
            "-c",
            `echo ${i} > out-${i}; echo x > /var/ms-par-${i} 2>/dev/null; cat out-${i}`,
          ],
          { cwd, timeoutMs: 60_000 },
        ),
      ),
    );
    runs.forEach((r, i) => {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`${i}\n`);
    });
    expect(readdirSync(cwd)).toHaveLength(16);
    for (let i = 0; i < 16; i++) expect(existsSync(`/var/ms-par-${i}`)).toBe(false);
    expect(snapshot(user)).toEqual(before);
  });

  it("removes its directories on errors and signals, and the leftovers of a killed run on the next run", async () => {
    const cwd = workdir(user);
    const ovl = workdir(user, "ovl");
    // A setup failure after the storage exists (a -m target in a read-only area).
    const failed = await runCli(
      user,
      ["-x", "-d", ovl, "-M", cwd, "-m", `/srv/ms-missing-${marker()}`, "--", "true"],
      { cwd },
    );
    expect(failed.code).toBe(125);
    expect(readdirSync(ovl)).toEqual([]);
    // SIGTERM is forwarded; the CLI still cleans up.
    const term = spawnAs(user, [CLI, "-x", "-d", ovl, "--", "sh", "-c", "echo ready; sleep 30"], {
      cwd,
    });
    await killWhenReady(term, "SIGTERM");
    expect(readdirSync(ovl)).toEqual([]);
    // SIGKILL cannot be caught: the directory stays, and the next run removes it.
    const killed = spawnAs(user, [CLI, "-x", "-d", ovl, "--", "sh", "-c", "echo ready; sleep 30"], {
      cwd,
    });
    await killWhenReady(killed, "SIGKILL");
    await sleep(100);
    const left = readdirSync(ovl);
    expect(left).toHaveLength(1);
    const next = await runCli(user, ["-x", "-d", ovl, "--", "true"], { cwd });
    expect(next.code).toBe(0);
    expect(readdirSync(ovl)).toEqual([]);
  });

  it("a full disk gives a clear error (125), never a silent fallback", async () => {
    if (!amRoot) {
      expect(user.uid).not.toBe(0);
      return;
    }
    const cwd = workdir(user);
    const full = hostDir(join(testBase(), `full-${marker()}`));
    expect(
      spawnSync("mount", [
        "-t",
        "tmpfs",
        "-o",
        "size=64k,nr_inodes=2,mode=1777",
        "ms-e2e-full",
        full,
      ]).status,
    ).toBe(0);
    cleanups.push(() => spawnSync("umount", ["-l", full]));
    writeFileSync(join(full, "filler"), "");
    const r = await runCli(user, ["-x", "-d", full, "--", "touch", "ran"], { cwd });
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/cannot create a private directory in .*ENOSPC/);
    expect(r.stderr).toMatch(/hint: the disk is full/);
    expect(existsSync(join(cwd, "ran"))).toBe(false);
  });
});

async function killWhenReady(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  let out = "";
  child.stdout?.setEncoding("utf8").on("data", (d) => {
    out += d;
  });
  const done = new Promise((r) => child.on("close", r));
  while (!out.includes("ready")) await sleep(20);
  child.kill(signal);
  await done;
}
