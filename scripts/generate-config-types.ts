/** `npm run gen:types`: writes the root config.schema.json and every config.generated.ts. */
import { writeFileSync } from 'node:fs';
import { displayPath, generateAll } from './config-schemas';

generateAll().then(
  (files) => {
    for (const [path, content] of files) {
      writeFileSync(path, content);
      console.log(`wrote ${displayPath(path)}`);
    }
  },
  (error: Error) => {
    console.error(`generating config types failed: ${error.message}`);
    process.exitCode = 1;
  },
);
