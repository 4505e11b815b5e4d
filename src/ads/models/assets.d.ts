/** Binary model assets, imported with `with { type: 'file' }`: a path (inside the compiled executable, an embedded one). */
declare module '*.bin' {
  const path: string;
  export default path;
}
