import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { varName } from '../api/schemas.js';
import { FormError, parseForm } from './form.js';

const form = z.object({
  name: z.string().trim().min(1, 'is required').max(10, 'is too long'),
  target: varName,
});
const labels = { name: 'Project name', target: 'Env var name' };

const message = (value: unknown) => {
  try {
    parseForm(form, value, labels);
  } catch (err) {
    if (err instanceof FormError) return err.message;
    throw err;
  }
  return 'valid';
};

describe('console form errors', () => {
  it('read as sentences naming the field as the form shows it', () => {
    expect(message({ name: ' ', target: 'OK' })).toBe('Project name is required.');
    expect(message({ target: 'OK' })).toBe('Project name is required.');
    expect(message({ name: 'x'.repeat(11), target: '1BAD' })).toBe(
      'Project name is too long. Env var name must be letters, digits and _ (not starting with a digit), at most 128.',
    );
    expect(message({ name: 'shop', target: 'GOOD_NAME' })).toBe('valid');
  });
});
