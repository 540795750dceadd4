import { ConflictError, ModulithError, ValidationError } from './errors';

describe('typed errors', () => {
  it('name the field in the message and carry it in the context', () => {
    const error = new ValidationError('transfers[3].amount', 'must be a positive integer');
    expect(error).toBeInstanceOf(ModulithError);
    expect(error.message).toBe('transfers[3].amount: must be a positive integer');
    expect(error.context).toEqual({ field: 'transfers[3].amount' });
    expect(error.name).toBe('ValidationError');
    expect(error.code).toBe('VALIDATION_FAILED');
  });

  it('keep their cause and context', () => {
    const cause = new Error('unique violation');
    const error = new ConflictError('transfer t-1 exists with other content', { id: 't-1' }, { cause });
    expect(error.cause).toBe(cause);
    expect(error.context).toEqual({ id: 't-1' });
  });
});
