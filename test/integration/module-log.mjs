// Loaded with `node --import` (NODE_OPTIONS) by tests that check what a
// process does not load: appends every module URL the process resolves to
// the file named by MODULE_LOG, one a line.
import { register } from 'node:module';

if (process.env.MODULE_LOG) {
  const hook = `
    import { appendFileSync } from 'node:fs';
    export async function resolve(specifier, context, next) {
      const resolved = await next(specifier, context);
      appendFileSync(${JSON.stringify(process.env.MODULE_LOG)}, resolved.url + '\\n');
      return resolved;
    }`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`);
}
