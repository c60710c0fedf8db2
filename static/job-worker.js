// The job worker: runs long work off the page's main thread (experiments now; long checks and
// seed sweeps later), in the page's own wasm module, so the page keeps painting.
//
// Messages from the page:
//   { t: 'load', glue, module }   load the module here (its JS glue at URL `glue`, the compiled
//                                 `module`); the module then installs self.dsplayJob
//   a string                      a request for the runner (see src/ui/jobs.rs), queued until
//                                 the module is ready
// Messages to the page are strings: 'ready', 'failed <why>', and the runner's answers.
'use strict';

self.dsplayJobs = true;
let run = null;
const early = [];

self.onmessage = (e) => {
  const m = e.data;
  if (m && m.t === 'load') {
    import(m.glue)
      .then((glue) => glue.default({ module_or_path: m.module }))
      .then(() => {
        if (typeof self.dsplayJob !== 'function') throw new Error('the module did not start a job runner');
        run = self.dsplayJob;
        for (const x of early.splice(0)) run(x);
        self.postMessage('ready');
      })
      .catch((err) => self.postMessage(`failed ${err}`));
  } else if (typeof m === 'string') {
    if (run) run(m);
    else early.push(m);
  }
};
