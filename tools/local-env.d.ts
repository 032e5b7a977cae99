// Types of tools/local-env.js, for the TypeScript tools that import it (tools/demo.ts).
export declare const localDefaults: Readonly<Record<string, string>>;
export declare const localPorts: Readonly<Record<'ingress' | 'admin' | 'worker' | 'heroku-sim', number>>;
/** Each app's port: `INGRESS_PORT`, `ADMIN_PORT`, `WORKER_PORT`, `HEROKU_SIM_PORT`, or the default. */
export declare function appPorts(env: Record<string, string | undefined>): Record<keyof typeof localPorts, number>;
/**
 * The shell's environment over `.env` over the local defaults; Heroku and webhook URLs follow the ports;
 * `LOCAL_DEVELOPMENT=true` when one of the local (weak) secrets is used.
 */
export declare function localEnv(): Record<string, string | undefined> & typeof localDefaults;
