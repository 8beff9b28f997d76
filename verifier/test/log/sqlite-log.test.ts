import { describeLogContract } from './log-contract.js';
import { sqliteStore } from './sqlite-store.js';

describeLogContract('SQLite', sqliteStore());
