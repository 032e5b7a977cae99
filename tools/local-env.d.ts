// Types of tools/local-env.js, for the TypeScript tools that import it (tools/demo.ts).
export declare const localDefaults: Readonly<Record<string, string>>;
export declare const localPorts: Readonly<Record<'ingress' | 'admin' | 'worker' | 'heroku-sim', number>>;
/** The shell's environment over `.env` over the local defaults. */
export declare function localEnv(): Record<string, string | undefined> & typeof localDefaults;
