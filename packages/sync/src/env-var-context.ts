/** Ciphertexts are bound to their row: a value moved to another project or name does not decrypt. */
export const envVarContext = (projectId: string, name: string) => `env:${projectId}:${name}`;
