import { FakeEngine } from "../support/fake-engine.js";
import { defineEngineContract, type Behaviour } from "../contract/engine-contract.js";

const engine = new FakeEngine();
engine.addImage("busybox");

defineEngineContract("the fake engine", () =>
  Promise.resolve({
    engine,
    image: "busybox",
    behave: (b: Behaviour) => ({
      env: {
        ...(b.output ? { FAKE_OUTPUT: b.output } : {}),
        ...(b.exit ? { FAKE_EXIT: String(b.exit) } : {}),
        ...(b.sleepSeconds ? { FAKE_SLEEP_MS: String(b.sleepSeconds * 1000) } : {}),
      },
      extra: [],
    }),
    vanish: (id: string) => Promise.resolve(engine.vanish(id)),
    service: (exits?: boolean) => ({
      env: exits ? { FAKE_EXIT: "0" } : ({ FAKE_OUTPUT: "ready" } as Record<string, string>),
    }),
    health: ["healthy"],
  }),
);
