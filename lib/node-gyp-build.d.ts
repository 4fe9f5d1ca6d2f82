// node-gyp-build ships no types: it takes the package root and returns the loaded addon.
declare module 'node-gyp-build' {
  function load(root: string): unknown;
  export = load;
}
