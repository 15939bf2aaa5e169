import { describe, expect, it } from "vitest";
import { buildPlan } from "./index.js";

const host = { uid: 1000, gid: 100, ttyGid: 5 };

describe("buildPlan", () => {
  it("composes read-only mode: host read-only, cwd writable, private /tmp and /run, loopback", () => {
    const plan = buildPlan({ command: ["true"], cwd: "/projects/p", env: {} }, host);
    expect(plan.mounts[0]).toEqual({ type: "bind", source: "/", target: "/", readOnly: true });
    expect(plan.mounts).toContainEqual({
      type: "bind",
      source: "/projects/p",
      target: "/projects/p",
      readOnly: false,
    });
    expect(plan.mounts.map((m) => m.target)).toEqual(
      expect.arrayContaining(["/tmp", "/run", "/dev", "/proc"]),
    );
    expect(plan.network).toEqual({ mode: "none", loopback: true });
    expect(plan.identity).toEqual({ uid: 1000, gid: 100 });
    expect(plan.namespaces.uts).toBe(false);
  });

  it("maps identity, hostname and network options", () => {
    const plan = buildPlan(
      {
        command: ["x"],
        cwd: "/w",
        env: {},
        identity: "nobody",
        ttyGroup: true,
        hostname: "localhost",
        network: "host",
      },
      host,
    );
    expect(plan.identity).toEqual({ uid: 65534, gid: 5 });
    expect(plan.hostname).toBe("localhost");
    expect(plan.namespaces.uts).toBe(true);
    expect(plan.namespaces.net).toBe(false);
    expect(
      buildPlan({ command: ["x"], cwd: "/w", env: {}, identity: "root", network: "none" }, host)
        .network,
    ).toEqual({ mode: "none", loopback: false });
  });

  it("refuses / as the writable working directory", () => {
    expect(() => buildPlan({ command: ["x"], cwd: "/", env: {} }, host)).toThrow(
      /whole host would be writable/,
    );
  });
});
